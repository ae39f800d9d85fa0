// Runs one task of any kind the way `tasks run` does: start it, print its events as they come
// (prefixed lines, or NDJSON with --json), then the summary on stderr. Every command that runs
// something on nodes (tasks run and rerun, services, files) goes through here, so they all print
// and exit alike: the caller exits non-zero when `allSucceeded` is false.
//
// Ctrl-C while following a manager task cancels it on every node and waits for the runs to end
// (a second Ctrl-C leaves at once); either way opsctl exits 130. A --queue task is followed until
// its online nodes are done: runs waiting for offline nodes are reported, not waited for.
import type { CreateTaskRequest, TaskDetail, TaskStreamEvent } from '../../../proto/rest/tasks.js';
import { isTerminal } from '../../../proto/task-status.js';
import { CliError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { colourEnabled } from '../format.js';
import { TaskPrinter } from './printer.js';
import type { StartedTask, TaskFiles, TaskRunner } from './runner.js';
import { acceptedLine, queuedLine, summaryLine } from './summary.js';

/** How long past the task's own timeout (per wave) opsctl keeps waiting for the manager to report it. */
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
  /** Say which task the manager accepted, on how many nodes, before its output (tasks run, rerun). */
  announce?: boolean;
  /** Leave out the closing summary (tasks run --quiet). */
  noSummary?: boolean;
  /**
   * Print the output folded when the task ends (fold.ts), with progress on a terminal meanwhile,
   * instead of each line as it arrives; a task on one node is always printed as it arrives.
   */
  fold?: boolean;
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
  return followStartedTask(await runner.start(body, opts.files), opts, started);
}

/** How long to follow: every wave may take the whole timeout, plus the pauses between waves. */
function followDeadlineMs(task: TaskDetail): number {
  const waves = Math.max(1, new Set(task.runs.map((r) => r.wave)).size);
  const pause = task.rollout?.batchPauseSeconds ?? 0;
  return (waves * (task.timeoutSeconds + pause) + FOLLOW_GRACE_SECONDS) * 1000;
}

/** Follows a task already started (`startedAt`: when the request was sent, for the elapsed time). */
export async function followStartedTask(started: StartedTask, opts: RunTaskOptions, startedAt = Date.now()): Promise<RunTaskResult> {
  const { task, follow, showHint, cancel } = started;
  if (opts.announce && !opts.json && showHint) opts.note(acceptedLine(task));
  // Loaded only for a task on several nodes: fold.ts hashes output with node:crypto, a cost at every start.
  const fold = opts.fold && !opts.json && !opts.quiet && task.runs.length > 1 ? await import('./fold.js') : undefined;
  const folder = fold && new fold.OutputFolder();
  const progress = fold && process.stderr.isTTY && !opts.noSummary ? new fold.FoldProgress(process.stderr) : undefined;
  const printer = new TaskPrinter({
    json: opts.json,
    stdout: opts.quiet || folder ? DISCARD : process.stdout,
    stderr: opts.quiet || folder ? DISCARD : process.stderr,
    colourStdout: colourEnabled(process.stdout),
    colourStderr: colourEnabled(process.stderr),
    // Every run as not yet seen: the stream replays each run's changes from the start, and a run
    // that ended before the answer came back must still get its output printed from the stream.
  }, task.runs.map((r) => ({ ...r, status: 'pending' as const })));

  let cancelling = false;
  const onInterrupt = cancel && (() => {
    cancelling = true;
    const live = [...printer.runs.values()].filter((r) => !isTerminal(r.status)).length;
    opts.note(`cancelling task ${task.id} on ${live} node${live === 1 ? '' : 's'}… (Ctrl-C again to leave without waiting)`);
    // A task that ended meanwhile refuses the cancel; its `done` event is on its way either way.
    cancel().catch((err: Error) => opts.note(`cancelling task ${task.id}: ${err.message}`));
  });
  const end = await follow((ev) => { printer.handle(ev); folder?.handle(ev); progress?.update(printer.runs); opts.onEvent?.(ev); }, followDeadlineMs(task),
    { settled: () => printer.settled(), onInterrupt, note: opts.note });
  printer.finish();
  progress?.clear();
  // Whatever the end, the output gathered so far is shown: an interrupted task's too.
  if (fold && folder) fold.printBlocks(folder.blocks(printer.runs), process.stdout, colourEnabled(process.stdout));
  const summary = summaryLine([...printer.runs.values()], Date.now() - startedAt, printer.done?.stopReason);
  const see = showHint ? `; see '${showHint}'` : '';
  if (end === 'interrupted') {
    opts.note(`${summary} so far`);
    if (cancelling) throw new CliError(`interrupted: task ${task.id} may still be cancelling${see}`, ExitCode.INTERRUPTED);
    // Direct mode has no one to keep the task running: its runs were cancelled on the hosts.
    throw new CliError(showHint ? `interrupted: task ${task.id} keeps running on the manager${see}` : 'interrupted: the runs were cancelled', ExitCode.INTERRUPTED);
  }
  if (end === 'deadline') {
    opts.note(`${summary} so far`);
    throw new CliError(`timed out: no result from every node within ${followDeadlineMs(task) / 1000} s${see}`);
  }
  if (end === 'ended') {
    opts.note(`${summary} so far`);
    throw new CliError(`${showHint ? 'the manager' : 'a host'} closed the event stream of task ${task.id} before it finished${see}`);
  }
  if (!opts.noSummary) opts.note(summary);
  const queued = queuedLine([...printer.runs.values()], task.id, task.queueExpiresAt);
  if (queued && !opts.noSummary) opts.note(queued);
  if (cancelling) {
    const what = printer.done?.status === 'cancelled' ? 'was cancelled' : `had ended (${printer.done?.status ?? 'only queued runs left'}) before the cancel`;
    throw new CliError(`interrupted: task ${task.id} ${what}`, ExitCode.INTERRUPTED);
  }
  return { task, printer, allSucceeded: printer.allSucceeded() };
}
