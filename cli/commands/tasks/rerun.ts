import { Args, Flags } from '@oclif/core';
import type { TaskDetail } from '../../../proto/rest/tasks.js';
import { ApiCommand } from '../../lib/base-command.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { ManagerRunner } from '../../lib/tasks/runner.js';
import { followFlags, startAndFollow } from '../../lib/tasks/start-and-follow.js';

export default class TasksRerun extends ApiCommand {
  static override summary = 'Run a task again, on every node or only on those that failed, and stream its output.';
  static override description = 'Create a new task with what an earlier one ran (its command or kind, environment, timeout, rollout and queueing) ' +
    'and follow it exactly as tasks run does: output folded on a terminal (--no-fold: lines as they arrive), the summary on standard error, the same exit codes, Ctrl-C cancelling it.\n\n' +
    'With --failed, only the nodes whose run did not succeed (failed, timed out, cancelled, skipped, offline, expired or lost) run it again.';
  static override examples = [
    '<%= config.bin %> tasks rerun 01J9Z8Q4V7Y3T2',
    '<%= config.bin %> tasks rerun 01J9Z8Q4V7Y3T2 --failed',
    '<%= config.bin %> tasks rerun 01J9Z8Q4V7Y3T2 --failed --detach --json',
  ];
  static override args = {
    id: Args.string({ description: 'ID of the task to run again (printed by tasks run, listed by opsctl tasks)', required: true }),
  };
  static override flags = {
    failed: Flags.boolean({ description: 'Only on the nodes whose run did not succeed.' }),
    json: Flags.boolean({ description: 'Print the task events as NDJSON instead of prefixed lines (with --detach: the task as JSON).' }),
    ...followFlags,
  };

  async run(): Promise<TaskDetail> {
    const { args, flags } = await this.parse(TasksRerun);
    const runner = new ManagerRunner(await this.api(flags.server));
    const { task, allSucceeded } = await startAndFollow({ write: (t) => this.write(t), note: (t) => this.note(t) },
      () => runner.rerun(args.id, flags.failed ? { failed: true } : {}), flags);
    if (!allSucceeded) this.exit(ExitCode.FAILURE);
    return task;
  }
}
