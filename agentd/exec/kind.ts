// The executor interface every task kind implements, built-in or plugin: given a run's params it
// does the work, reports output through the context, honours `signal` (timeout or cancel) and
// returns how it ended. The run queue (run-queue.ts) owns everything common: the concurrency
// limit, queueing, timeouts, cancel, shutdown and the exit event.
import type { Readable } from 'node:stream';
import type { Logger } from '../../lib/log.js';

export type StopReason = 'timeout' | 'cancelled';

export interface RunContext<P> {
  readonly runId: string;
  readonly params: P;
  readonly timeoutMs: number;
  /** Aborted on timeout or cancel; `signal.reason` is the StopReason. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** Reports output; text is split into events of at most tasks.outputChunkBytes. */
  output(stream: 'stdout' | 'stderr', data: string | Buffer): void;
  /** For kinds with `startsItself`: the run has really begun (a process was spawned). */
  started(pid: number): void;
  /** The work is done and only its output is draining: a cancel now changes nothing. */
  settled(): void;
  /** Sends a piece of a file to the caller (downloads); resolves when the caller can take more. */
  data(offset: number, chunk: Buffer): Promise<void>;
  /** An upload's content, once the caller has sent it (PUT /v1/exec/<runId>/content). */
  content(): Promise<Readable>;
}

export interface RunOutcome {
  exitCode: number;
  signal?: string | null;
  /** Default: succeeded when exitCode is 0, failed otherwise. */
  status?: 'succeeded' | 'failed' | 'error';
  error?: string | null;
  /** The run was stopped by `signal` before it finished its work (labelled timeout or cancelled). */
  stopped?: boolean;
  result?: Record<string, unknown>;
}

export interface KindExecutor<P = unknown> {
  readonly kind: string;
  /** JSON Schema of the params, checked by agentd's HTTP API before a run is accepted. */
  readonly paramsSchema: object;
  /** The executor reports `started` itself (with the pid it spawned); otherwise the queue does. */
  readonly startsItself?: boolean;
  /**
   * Checks a run's params against the host before it is queued (a path outside the roots, an
   * unknown plugin): throw an OpsError and nothing runs.
   */
  check?(params: P): void;
  /** Throwing an OpsError fails the run with that code (`errorCode` on the exit event). */
  run(ctx: RunContext<P>): Promise<RunOutcome>;
  /** Called once when agentd shuts down, after every run ended. */
  shutdown?(): void;
}
