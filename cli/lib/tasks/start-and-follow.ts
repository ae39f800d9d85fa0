// What `tasks run` and `tasks rerun` share once the request is known: start the task on the
// manager, then either hand its ID back at once (--detach) or follow it to the end like every
// task, with --quiet leaving out the "accepted" line and the summary.
import { Flags } from '@oclif/core';
import type { TaskDetail } from '../../../proto/rest/tasks.js';
import { followStartedTask } from './run-task.js';
import type { StartedTask } from './runner.js';

export const followFlags = {
  detach: Flags.boolean({ description: 'Print the task ID (the task as JSON with --json) as soon as the manager accepts it, and return without following it.' }),
  quiet: Flags.boolean({ char: 'q', description: 'Print only the nodes\' output: no "accepted" line and no summary (errors still go to standard error).' }),
  fold: Flags.boolean({
    allowNo: true,
    description: 'Fold the output when the task ends: nodes that printed the same and ended alike are shown once, under a header naming them ' +
      'as a node set, e.g. "---- web[01-40,42] (41) · succeeded, exit 0 ----", largest block last (default on a terminal; --no-fold: each line as it arrives, prefixed by its node).',
  }),
};

export interface FollowFlags {
  json?: boolean;
  detach?: boolean;
  quiet?: boolean;
  /** Unset: fold when standard output is a terminal (a script reading `node: line` keeps getting them). */
  fold?: boolean;
}

/** Where the command prints: data (stdout) and messages (stderr). */
export interface CommandIo {
  write(text: string): void;
  note(text: string): void;
}

export async function startAndFollow(io: CommandIo, start: () => Promise<StartedTask>, flags: FollowFlags): Promise<{ task: TaskDetail; allSucceeded: boolean }> {
  const startedAt = Date.now();
  const started = await start();
  if (flags.detach) {
    io.write(flags.json ? `${JSON.stringify(started.task, null, 2)}\n` : `${started.task.id}\n`);
    return { task: started.task, allSucceeded: true };
  }
  const { task, allSucceeded } = await followStartedTask(started, {
    json: Boolean(flags.json), note: (t) => io.note(t), announce: !flags.quiet, noSummary: Boolean(flags.quiet),
    fold: flags.fold ?? Boolean(process.stdout.isTTY),
  }, startedAt);
  return { task, allSucceeded };
}
