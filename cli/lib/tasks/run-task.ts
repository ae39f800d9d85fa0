// Runs one task of any kind the way `tasks run` does: start it, print its events as they come
// (prefixed lines, or NDJSON with --json), then the summary on stderr. Every command that runs
// something on nodes (tasks run, services, files) goes through here, so they all print and exit
// alike: the caller exits non-zero when `allSucceeded` is false.
import type { CreateTaskRequest, TaskDetail, TaskStreamEvent } from '../../../proto/rest/tasks.js';
import { CliError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { colourEnabled } from '../format.js';
import { TaskPrinter } from './printer.js';
import type { TaskFiles, TaskRunner } from './runner.js';
import { summaryLine } from './summary.js';

/** How long past the task's own timeout opsctl keeps waiting for the manager to report it. */
const FOLLOW_GRACE_SECONDS = 30;
const DISCARD = { write: () => true };

export interface RunTaskOptions {
  json: boolean;
  /** Messages for people (stderr). */
  note: (text: string) => void;
  /** A file task's local content, for direct mode (TaskRunner). */
  files?: TaskFiles;
  /** Print no events (the caller prints its own view, e.g. one state line per node); the summary still goes to stderr. */
  quiet?: boolean;
  /** Sees every event too, e.g. to keep each run's `result` from its exit event. */
  onEvent?: (ev: TaskStreamEvent) => void;
}

export interface RunTaskResult {
  task: TaskDetail;
  printer: TaskPrinter;
  allSucceeded: boolean;
}

export async function runTask(runner: TaskRunner, body: CreateTaskRequest, opts: RunTaskOptions): Promise<RunTaskResult> {
  const started = Date.now();
  const { task, follow, showHint } = await runner.start(body, opts.files);
  const printer = new TaskPrinter({
    json: opts.json,
    stdout: opts.quiet ? DISCARD : process.stdout,
    stderr: opts.quiet ? DISCARD : process.stderr,
    colourStdout: colourEnabled(process.stdout),
    colourStderr: colourEnabled(process.stderr),
  }, task.runs);

  const end = await follow((ev) => { printer.handle(ev); opts.onEvent?.(ev); }, (task.timeoutSeconds + FOLLOW_GRACE_SECONDS) * 1000);
  printer.finish();
  const summary = summaryLine([...printer.runs.values()], Date.now() - started);
  const see = showHint ? `; see '${showHint}'` : '';
  if (end === 'interrupted') {
    opts.note(`${summary} so far`);
    // Direct mode has no one to keep the task running: its runs were cancelled on the hosts.
    throw new CliError(showHint ? `interrupted: task ${task.id} keeps running on the manager${see}` : 'interrupted: the runs were cancelled', ExitCode.INTERRUPTED);
  }
  if (end === 'deadline') {
    opts.note(`${summary} so far`);
    throw new CliError(`timed out: no result from every node within ${task.timeoutSeconds + FOLLOW_GRACE_SECONDS} s${see}`);
  }
  if (end === 'ended') {
    opts.note(`${summary} so far`);
    throw new CliError(`${showHint ? 'the manager' : 'a host'} closed the event stream of task ${task.id} before it finished${see}`);
  }
  opts.note(summary);
  return { task, printer, allSucceeded: printer.allSucceeded() };
}
