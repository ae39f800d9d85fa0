// Relays tasks from the manager to agentd and their events back, as they happen: a Dispatch
// becomes a signed POST /v1/exec, whose NDJSON stream is read line by line and forwarded as
// TaskEvents. If agentd cannot be reached the run still ends, with an `exited` event of status
// `error` saying why, so the manager never waits for a run that will not come.
//
// The relay does not know the task kinds: the Dispatch's oneof names the kind and its message is
// passed on as the run's params. Files are the one thing it carries besides: an upload's chunks
// go into a PUT of the run's content (upload-pipe.ts), a download's pieces come back as FileData
// events, each waiting for the manager stream to take it.
import { Agent, request, type IncomingMessage } from 'node:http';
import { formatHostPort, parseHostPort } from '../lib/host-port.js';
import type { Logger } from '../lib/log.js';
import { readLines } from '../lib/ndjson.js';
import type { Subsystem } from '../lib/run-group.js';
import { AGENT_API, TASK_KINDS, type AgentExecEvent, type AgentExecRequest } from '../proto/agent-api.js';
import { HOSTD_KEY_ID } from '../proto/agent-keys-file.js';
import type { Dispatch__Output, TaskEvent } from '../proto/hostlink.js';
import type { FileAck } from '../proto/gen/opsctl/hostlink/v1/FileAck.js';
import type { FileChunk__Output } from '../proto/gen/opsctl/hostlink/v1/FileChunk.js';
import { signRequest } from '../proto/signing.js';
import { UploadPipe } from './upload-pipe.js';

export interface RelayOptions {
  /** agentd's HTTP address, HOST:PORT (a wildcard host is reached on loopback). */
  agentAddress: string;
  /** The current signing secret for key id "hostd". */
  secret: () => string;
  /** Where task events go (the manager link, which spools them while disconnected). */
  emit: (event: TaskEvent) => void;
  /** A download's piece; resolves when the manager stream can take more, rejects when it is down. */
  emitData?: (event: TaskEvent) => Promise<void>;
  /** Tells the manager how much of an upload went on to agentd (its send window). */
  ack?: (ack: FileAck) => void;
  log: Logger;
}

async function readText(res: IncomingMessage): Promise<string> {
  let text = '';
  res.setEncoding('utf8');
  for await (const chunk of res) text += chunk as string;
  return text;
}

export function agentBaseUrl(listen: string): string {
  const { host, port } = parseHostPort(listen, 'agent.listen');
  const target = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${formatHostPort({ host: target, port })}`;
}

/** An agentd exec event as a TaskEvent for the manager; undefined for events it does not need. */
export function toTaskEvent(e: AgentExecEvent): TaskEvent | undefined {
  switch (e.type) {
    case 'started': return { runId: e.runId, started: { atMs: e.atMs, pid: e.pid } };
    case 'output': return { runId: e.runId, output: { stream: e.stream, data: e.data, atMs: e.atMs } };
    case 'data': return { runId: e.runId, fileData: { offset: e.offset, data: Buffer.from(e.data, 'base64') } };
    case 'exit': return {
      runId: e.runId,
      exited: {
        atMs: e.atMs, exitCode: e.exitCode, signal: e.signal ?? '', durationMs: e.durationMs, status: e.status, error: e.error ?? '',
        errorCode: e.errorCode ?? 0, resultJson: e.result ? JSON.stringify(e.result) : '',
      },
    };
    default: return undefined;
  }
}

/**
 * The Dispatch as agentd's run request: the oneof's message becomes `params`, without the fields
 * left at their proto defaults ("" , 0, false, empty map), which mean "not given".
 */
export function toExecRequest(d: Dispatch__Output): AgentExecRequest | string {
  const fields = d as unknown as Record<string, unknown>;
  // proto-loader names the oneof's field in `kind`; a Dispatch built by hand may only set the field.
  const kind = d.kind ?? TASK_KINDS.find((k) => fields[k]);
  const message = kind ? fields[kind] : undefined;
  if (!kind || !message) return 'the dispatch names no task kind (is hostd older than the manager?)';
  const params = Object.fromEntries(Object.entries(message as Record<string, unknown>).filter(([, v]) =>
    v !== '' && v !== 0 && v !== false && v !== null && v !== undefined && !(typeof v === 'object' && Object.keys(v as object).length === 0)));
  return { runId: d.runId, kind, params, ...(d.timeoutMs > 0 ? { timeoutMs: d.timeoutMs } : {}) } as unknown as AgentExecRequest;
}

export class TaskRelay implements Subsystem {
  readonly name = 'task relay';
  private readonly baseUrl: string;
  // node:http rather than undici: agentd is one loopback peer, and undici alone costs hostd about
  // 8 MB of private memory (DESIGN.md §6 gives hostd 15 MB in all).
  private readonly agent = new Agent({ keepAlive: true });
  private readonly runs = new Map<string, AbortController>();
  private readonly uploads = new Map<string, UploadPipe>();

  constructor(private readonly opts: RelayOptions) {
    this.baseUrl = agentBaseUrl(opts.agentAddress);
  }

  get running(): number { return this.runs.size; }

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    if (this.runs.size > 0) this.opts.log.warn({ runs: [...this.runs.keys()] }, 'hostd stopping: abandoning the streams of running tasks');
    for (const controller of this.runs.values()) controller.abort();
    for (const upload of this.uploads.values()) upload.abort('hostd stopped');
    this.agent.destroy();
  }

  /** A piece of an upload's content from the manager; passed on to agentd in order. */
  fileChunk(chunk: FileChunk__Output): void {
    const upload = this.uploads.get(chunk.runId);
    if (!upload) {
      this.opts.ack?.({ runId: chunk.runId, offset: chunk.offset, error: 'no upload in flight for this run' });
      return;
    }
    upload.push(chunk);
  }

  /**
   * Runs a killed agentd left behind, ended by its successor: each ends on the manager as an
   * error now, instead of waiting out its task's timeout. (A run whose exec stream this hostd
   * still had was already reported when that stream broke; the manager ignores the repeat.)
   */
  reportLost(runs: readonly { runId: string; killed: boolean }[]): void {
    for (const r of runs) {
      if (this.runs.has(r.runId)) continue;
      const error = r.killed
        ? 'agentd was killed while this ran; the next agentd ended the run (it may have done part of its work)'
        : 'agentd was killed while this ran; the run had ended by the time the next agentd looked, with its result unknown';
      this.opts.log.warn({ runId: r.runId, killed: r.killed }, 'reporting a run lost with a killed agentd');
      this.opts.emit({ runId: r.runId, exited: { atMs: Date.now(), exitCode: -1, signal: '', durationMs: 0, status: 'error', error, errorCode: 0, resultJson: '' } });
    }
  }

  /** The manager stream dropped: uploads in flight cannot get the rest of their content. */
  linkLost(): void {
    for (const upload of this.uploads.values()) upload.abort('the manager connection dropped mid-transfer');
  }

  /** Starts relaying one run; a second dispatch of a run already in flight is ignored. */
  dispatch(d: Dispatch__Output): void {
    if (this.runs.has(d.runId)) {
      this.opts.log.info({ runId: d.runId }, 'run already in flight; ignoring the repeated dispatch');
      return;
    }
    const controller = new AbortController();
    this.runs.set(d.runId, controller);
    void this.exec(d, controller.signal).finally(() => {
      this.runs.delete(d.runId);
      this.uploads.get(d.runId)?.abort('the run ended');
      this.uploads.delete(d.runId);
    });
  }

  async cancel(runId: string): Promise<void> {
    const path = AGENT_API.cancel(runId);
    const body = '{}';
    try {
      const res = await this.post(path, body);
      const text = await readText(res);
      if ((res.statusCode ?? 0) >= 300) this.opts.log.warn({ runId, status: res.statusCode, body: text.slice(0, 500) }, 'agentd did not cancel the run');
      else this.opts.log.info({ runId }, 'cancel passed to agentd');
    } catch (err) {
      this.opts.log.warn({ runId, err: (err as Error).message }, 'cancel could not reach agentd');
    }
  }

  /** A signed JSON POST to agentd; resolves with the response as soon as its headers arrive. */
  private post(path: string, body: string, signal?: AbortSignal): Promise<IncomingMessage> {
    const headers = {
      'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)),
      ...signRequest({ method: 'POST', path, body, keyId: HOSTD_KEY_ID, secret: this.opts.secret() }),
    };
    return new Promise((resolve, reject) => {
      const req = request(this.baseUrl + path, { method: 'POST', agent: this.agent, headers, signal }, resolve);
      req.once('error', reject);
      req.end(body);
    });
  }

  private async exec(d: Dispatch__Output, signal: AbortSignal): Promise<void> {
    const startedAt = Date.now();
    const { emit, log } = this.opts;
    const fail = (error: string, errorCode = 0) => {
      log.warn({ runId: d.runId, error }, 'run failed in hostd');
      emit({ runId: d.runId, exited: { atMs: Date.now(), exitCode: -1, signal: '', durationMs: Date.now() - startedAt, status: 'error', error, errorCode, resultJson: '' } });
    };
    const execRequest = toExecRequest(d);
    if (typeof execRequest === 'string') return fail(execRequest);
    const body = JSON.stringify(execRequest);
    const upload = execRequest.kind === 'file' && execRequest.params.op === 'upload'
      ? new UploadPipe({
        runId: d.runId, sha256: execRequest.params.sha256 ?? '', size: execRequest.params.size ?? 0,
        url: this.baseUrl + AGENT_API.content(d.runId), agent: this.agent, secret: this.opts.secret,
        ack: (a) => this.opts.ack?.(a), log,
      })
      : undefined;
    if (upload) this.uploads.set(d.runId, upload);
    let exited = false;
    try {
      const res = await this.post(AGENT_API.exec, body, signal);
      if (res.statusCode !== 200) {
        const text = await readText(res).catch(() => '');
        let message = text.slice(0, 1000);
        let code = 0;
        try {
          const refusal = JSON.parse(text) as { message?: string; code?: number };
          message = refusal.message ?? message;
          code = Number.isInteger(refusal.code) ? refusal.code! : 0;
        } catch { /* not JSON */ }
        upload?.abort('agentd refused the run');
        return fail(`agentd refused the run (HTTP ${res.statusCode}): ${message}`, code);
      }
      // agentd has the run now: its content may follow.
      upload?.open();
      const onLine = (line: string) => {
        let event: AgentExecEvent;
        try {
          event = JSON.parse(line) as AgentExecEvent;
        } catch {
          log.warn({ runId: d.runId, line: line.slice(0, 200) }, 'ignoring a malformed line from agentd');
          return;
        }
        const taskEvent = toTaskEvent(event);
        if (!taskEvent) return;
        if (taskEvent.exited) exited = true;
        if (taskEvent.fileData) return this.opts.emitData?.(taskEvent);
        emit(taskEvent);
      };
      for await (const line of readLines(res)) {
        // A download's piece waits for the manager stream, which holds agentd back in turn.
        const waiting = onLine(line);
        if (waiting) {
          const error = await waiting.then(() => undefined, (err: Error) => err);
          if (error) {
            res.destroy();
            exited = true;
            return fail(`download stopped: ${error.message}`);
          }
        }
      }
      if (!exited) fail('agentd ended the output stream without an exit event');
    } catch (err) {
      if (exited) return;
      if (signal.aborted) return fail('hostd stopped while the run was streaming');
      const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
      const detail = e.cause?.code ?? e.code ?? '';
      fail(`agentd unreachable at ${this.baseUrl}: ${e.message}${detail && !e.message.includes(detail) ? ` (${detail})` : ''}`);
    }
  }
}
