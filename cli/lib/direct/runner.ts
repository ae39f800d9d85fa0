// Direct mode's TaskRunner: opsctl plays the manager's part for the inventory's hosts. It picks the
// hosts with the manager's selector matcher, POSTs the run to each host's agentd at once, and turns
// agentd's NDJSON events into the TaskStreamEvents the manager would send (run, started, output,
// exit, done), so printing, --json and exit codes are the same either way. A host that cannot be
// reached, refuses the request or ends its stream without an exit ends its own run with status
// `error`; the others go on. Nothing is stored: the task exists while opsctl runs.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { userInfo } from 'node:os';
import { readLines } from '../../../lib/ndjson.js';
import type { AgentExecEvent } from '../../../proto/agent-api.js';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import type { CreateTaskRequest, RunStatus, TaskDetail, TaskRun, TaskStreamEvent } from '../../../proto/rest/tasks.js';
import { compileSelector, describeSelector, SelectorError } from '../../../proto/selector.js';
import { execRequest, taskSpec, type TaskSpec } from '../../../proto/task-kinds.js';
import { countRuns, finalTaskStatus, isTerminal } from '../../../proto/task-status.js';
import { CliError, UsageError } from '../errors.js';
import type { FollowEnd } from '../tasks/follow.js';
import type { StartedTask, TaskFiles, TaskRunner } from '../tasks/runner.js';
import { AgentClient, AgentRefusal, agentNetworkReason } from './agent-client.js';
import { DownloadSink, fileDigest } from './file-transfer.js';
import type { Inventory, InventoryHost } from './inventory.js';

// Same value as SECRET_MASK in proto/rest/tasks.ts, which cannot be imported at run time: it loads TypeBox.
const SECRET_MASK = '***';
/** The manager's default when a request names no timeout (configs/manager.yaml tasks.defaultTimeoutSeconds). */
const DEFAULT_TIMEOUT_SECONDS = 300;
/** After Ctrl-C, how long the cancelled runs get to report their end (agentd's SIGTERM-to-SIGKILL is 5 s). */
const CANCEL_WAIT_MS = 7_000;

/** What to tell the operator about a refusal, beyond agentd's own words. */
function refusalHint(host: InventoryHost, status: number): string {
  if (status === 401) return `; check keyId "${host.keyId}" and keyFile ${host.keyFile} against agentd's auth.keysFile`;
  if (status === 403) return '; add this machine\'s address to agentd\'s http.allow';
  return '';
}

/** One host's run, as the manager keeps it (server/modules/tasks/views.ts RunView). */
interface DirectRun {
  view: TaskRun;
  host: InventoryHost;
  client: AgentClient;
  download?: DownloadSink;
  /** Why sending an upload's content failed, when it did. */
  uploadError?: string;
}

export class DirectRunner implements TaskRunner {
  constructor(private readonly inventory: Inventory) {}

  async start(body: CreateTaskRequest, files: TaskFiles = {}): Promise<StartedTask> {
    const spec = await this.spec(body, files);
    let matches;
    try {
      matches = compileSelector(body.selector);
    } catch (err) {
      if (err instanceof SelectorError) throw new UsageError(err.message);
      throw err;
    }
    const hosts = this.inventory.hosts.filter(matches).sort((a, b) => a.name.localeCompare(b.name));
    if (hosts.length === 0) throw new CliError(`no host of ${this.inventory.file} matches the selector ${describeSelector(body.selector)}`);

    const timeoutSeconds = body.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    const runs: DirectRun[] = hosts.map((host) => ({
      host,
      client: new AgentClient(host),
      view: {
        id: randomUUID(), node: host.name, status: 'pending', exitCode: null, error: null, startedAt: null, finishedAt: null,
        durationMs: null, output: '', outputTruncated: false, errorCode: null, result: null, wave: 0,
      },
    }));
    const env = { ...(body.env ?? {}), ...(body.secretEnv ?? {}) };
    const shownEnv = { ...(body.env ?? {}), ...Object.fromEntries(Object.keys(body.secretEnv ?? {}).map((k) => [k, SECRET_MASK])) };
    const task: TaskDetail = {
      id: randomUUID(), status: 'running', kind: spec.kind, script: spec.script, interpreter: spec.interpreter, params: spec.params,
      timeoutSeconds, env: shownEnv, createdBy: localUser(), createdAt: new Date().toISOString(), finishedAt: null,
      counts: countRuns(runs.map((r) => r.view.status)), runs: runs.map((r) => ({ ...r.view })),
      rollout: null, queueExpiresAt: null, stopReason: null, template: null, schedule: null,
    };
    const follow = (onEvent: (ev: TaskStreamEvent) => void, deadlineMs: number) =>
      new DirectTask(task.id, spec, env, timeoutSeconds, runs, files, onEvent).follow(deadlineMs);
    return { task, showHint: '', follow };
  }

  /** The request's kind, checked as the manager checks it; an upload's sha256 and size come from the local file. */
  private async spec(body: CreateTaskRequest, files: TaskFiles): Promise<TaskSpec> {
    let request = body;
    let size: number | undefined;
    if (body.file?.op === 'upload') {
      if (!files.uploadPath) throw new UsageError('an upload in direct mode needs the local file to send');
      let digest;
      try {
        digest = await fileDigest(files.uploadPath);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw new UsageError(`reading ${files.uploadPath}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
      }
      if (body.file.sha256 && body.file.sha256 !== digest.sha256) throw new UsageError(`${files.uploadPath} has sha256 ${digest.sha256}, not the ${body.file.sha256} asked for`);
      request = { ...body, file: { ...body.file, sha256: digest.sha256 } };
      size = digest.size;
    }
    if (body.file?.op === 'download' && !files.downloadDir) throw new UsageError('a download in direct mode needs a local folder to put the copies in');
    let spec: TaskSpec;
    try {
      spec = taskSpec(request);
    } catch (err) {
      if (err instanceof OpsError && err.code === ErrorCode.INVALID_ARGUMENT) throw new UsageError(err.message);
      throw err;
    }
    if (size !== undefined) spec.params = { ...spec.params, size };
    return spec;
  }
}

function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'opsctl';
  }
}

/** One task's runs, followed live: every host at once, each ending on its own. */
class DirectTask {
  private cancelRequested = false;
  private readonly streams = new AbortController();

  constructor(
    private readonly taskId: string,
    private readonly spec: TaskSpec,
    private readonly env: Record<string, string>,
    private readonly timeoutSeconds: number,
    private readonly runs: DirectRun[],
    private readonly files: TaskFiles,
    private readonly onEvent: (ev: TaskStreamEvent) => void,
  ) {}

  async follow(deadlineMs: number): Promise<FollowEnd> {
    let end: FollowEnd | undefined;
    let wake!: () => void;
    const stopped = new Promise<void>((resolve) => { wake = resolve; });
    const stop = (why: FollowEnd) => { end ??= why; wake(); };
    const timer = setTimeout(() => stop('deadline'), deadlineMs);
    const onSignal = () => stop('interrupted');
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      for (const run of this.runs) this.onEvent({ type: 'run', runId: run.view.id, node: run.view.node, status: run.view.status });
      const all = Promise.all(this.runs.map((run) => this.runOn(run)));
      await Promise.race([all, stopped]);
      if (end === 'interrupted') {
        await this.cancelAll();
        await Promise.race([all, new Promise((r) => setTimeout(r, CANCEL_WAIT_MS).unref())]);
        return 'interrupted';
      }
      if (end) return end;
      const statuses = this.runs.map((r) => r.view.status);
      this.onEvent({ type: 'done', taskId: this.taskId, status: finalTaskStatus(this.cancelRequested, statuses), counts: countRuns(statuses) });
      return 'done';
    } finally {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // Whatever is still streaming is abandoned; agentd cancels a run whose client went away.
      this.streams.abort();
      await Promise.all(this.runs.map((r) => (r.view.status === 'succeeded' ? undefined : r.download?.abort())));
    }
  }

  /** Ctrl-C: every run not yet ended is cancelled on its agentd, which then reports it `cancelled`. */
  private async cancelAll(): Promise<void> {
    this.cancelRequested = true;
    const signal = AbortSignal.timeout(5_000);
    await Promise.all(this.runs.filter((r) => !isTerminal(r.view.status)).map((r) => r.client.cancel(r.view.id, signal).catch(() => false)));
  }

  /** Runs the task on one host; never throws: whatever goes wrong ends this run with status `error`. */
  private async runOn(run: DirectRun): Promise<void> {
    const { host, client, view } = run;
    const request = execRequest(view.id, this.spec, this.env, this.timeoutSeconds * 1000);
    let res: IncomingMessage;
    try {
      res = await client.exec(request, this.streams.signal);
    } catch (err) {
      if (err instanceof AgentRefusal) return this.fail(run, `agentd refused the run: ${err.message}${refusalHint(host, err.httpStatus)}`, err.code);
      return this.fail(run, `agentd unreachable at ${host.url} (${agentNetworkReason(err)})`);
    }
    view.status = 'dispatched';
    const params = this.spec.params ?? {};
    if (params.op === 'upload') void this.sendContent(run, String(params.sha256), Number(params.size));
    if (params.op === 'download') run.download = new DownloadSink(this.files.downloadDir!, host.name, String(params.path));
    try {
      for await (const line of readLines(res)) {
        let event: AgentExecEvent;
        try {
          event = JSON.parse(line) as AgentExecEvent;
        } catch {
          continue; // not an event; agentd only writes JSON lines
        }
        await this.handle(run, event);
        if (isTerminal(view.status)) return;
      }
      if (!isTerminal(view.status)) this.fail(run, `agentd at ${host.url} ended the output stream without an exit event`);
    } catch (err) {
      if (isTerminal(view.status) || this.streams.signal.aborted) return;
      this.fail(run, `lost the stream from agentd at ${host.url} (${agentNetworkReason(err)})`);
    }
  }

  private async handle(run: DirectRun, e: AgentExecEvent): Promise<void> {
    const { view } = run;
    switch (e.type) {
      case 'started':
        view.status = 'running';
        view.startedAt = new Date(e.atMs || Date.now()).toISOString();
        this.onEvent({ type: 'started', runId: view.id, node: view.node, at: view.startedAt, pid: e.pid });
        return;
      case 'output':
        this.onEvent({ type: 'output', runId: view.id, node: view.node, stream: e.stream === 'stderr' ? 'stderr' : 'stdout', data: e.data });
        return;
      case 'data':
        if (!run.download) return;
        try {
          await run.download.write(e.offset, e.data);
        } catch (err) {
          await run.download.abort();
          run.download = undefined;
          this.fail(run, `writing the download: ${(err as Error).message}`);
        }
        return;
      case 'exit':
        return this.exit(run, e);
      default:
        return; // queued: the manager does not show it either
    }
  }

  /** As the manager turns a host's exit into the run's end (server/modules/tasks/batch-plan.ts). */
  private async exit(run: DirectRun, e: Extract<AgentExecEvent, { type: 'exit' }>): Promise<void> {
    let status: RunStatus = isTerminal(e.status) ? e.status : e.exitCode === 0 ? 'succeeded' : 'failed';
    let error = e.error || (e.signal ? `killed by ${e.signal}` : null);
    let exitCode = e.exitCode === -1 ? null : e.exitCode;
    if (run.uploadError && status !== 'succeeded') {
      status = 'error';
      error = `sending the content to agentd: ${run.uploadError}`;
    }
    if (run.download) {
      const problem = status === 'succeeded' ? await run.download.finish(e.result ?? null) : (await run.download.abort(), undefined);
      if (problem) {
        status = 'error';
        error = problem;
        exitCode = null;
      }
    }
    this.end(run, { status, exitCode, error, errorCode: e.errorCode || null, result: e.result ?? null, durationMs: e.durationMs, atMs: e.atMs });
  }

  private async sendContent(run: DirectRun, sha256: string, size: number): Promise<void> {
    try {
      await run.client.putContent(run.view.id, this.files.uploadPath!, sha256, size, this.streams.signal);
    } catch (err) {
      if (isTerminal(run.view.status) || this.streams.signal.aborted) return;
      run.uploadError = err instanceof AgentRefusal ? `agentd refused it: ${err.message}` : agentNetworkReason(err);
      // The run would wait for content that is not coming.
      await run.client.cancel(run.view.id, AbortSignal.timeout(5_000)).catch(() => false);
    }
  }

  /** Ends a run on this side; `errorCode`: the code agentd refused it with (1003 for a path outside its roots). */
  private fail(run: DirectRun, error: string, errorCode?: number): void {
    if (isTerminal(run.view.status)) return;
    this.end(run, { status: 'error', exitCode: null, error, errorCode: errorCode ?? null, result: null, durationMs: null, atMs: Date.now() });
  }

  private end(run: DirectRun, x: { status: RunStatus; exitCode: number | null; error: string | null; errorCode: number | null; result: Record<string, unknown> | null; durationMs: number | null; atMs: number }): void {
    const { view } = run;
    const finishedAt = new Date(x.atMs || Date.now());
    Object.assign(view, {
      status: x.status, exitCode: x.exitCode, error: x.error, errorCode: x.errorCode, result: x.result, finishedAt: finishedAt.toISOString(),
      durationMs: x.durationMs ?? (view.startedAt ? Math.max(0, finishedAt.getTime() - Date.parse(view.startedAt)) : 0),
    });
    this.onEvent({
      type: 'exit', runId: view.id, node: view.node, status: view.status, exitCode: view.exitCode, durationMs: view.durationMs,
      error: view.error, errorCode: view.errorCode, result: view.result,
    });
  }
}
