// Relays tasks from the manager to agentd and their events back, as they happen: a Dispatch
// becomes a signed POST /v1/exec, whose NDJSON stream is read line by line and forwarded as
// TaskEvents, each with agentd's seq. If agentd cannot be reached the run still ends, with an
// `exited` event of status `error` saying why, so the manager never waits for a run that will not come.
//
// Nothing is lost and nothing runs twice: the dispatch is spooled (event-spool.ts) before it goes
// to agentd; when a run's stream breaks (agentd restarted, a connection dropped) or hostd itself
// restarted, the relay re-attaches with GET /v1/exec/<runId>/events?after=<last seq it has>, and
// a run agentd no longer knows ends as `lost`. A dispatch of a run hostd already knows is never
// sent to agentd again; one agentd already has (409) is re-attached to, not started.
//
// The relay does not know the task kinds: the Dispatch's oneof names the kind and its message is
// passed on as the run's params. Files are the one thing it carries besides: an upload's chunks
// go into a PUT of the run's content (upload-pipe.ts), a download's pieces come back as FileData
// events, each waiting for the manager stream to take it.
import { Agent, request, type IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatHostPort, parseHostPort } from '../lib/host-port.js';
import type { Logger } from '../lib/log.js';
import { readLines } from '../lib/ndjson.js';
import type { Subsystem } from '../lib/run-group.js';
import { AGENT_API, lostRunMessage, TASK_KINDS, type AgentExecEvent, type AgentExecRequest } from '../proto/agent-api.js';
import { HOSTD_KEY_ID } from '../proto/agent-keys-file.js';
import type { Dispatch__Output as DispatchMessage, TaskEvent } from '../proto/hostlink.js';

/** A dispatch as the relay takes it: its acks (Dispatch.acks) are the link's, applied before it gets here. */
type Dispatch__Output = Omit<DispatchMessage, 'acks'>;
import type { FileAck } from '../proto/gen/opsctl/hostlink/v1/FileAck.js';
import type { FileChunk__Output } from '../proto/gen/opsctl/hostlink/v1/FileChunk.js';
import { signRequest } from '../proto/signing.js';
import { Backoff } from './backoff.js';
import type { EventSpool } from './event-spool.js';
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
  /** The runs hostd dispatched and has not seen end (loaded before the relay starts). */
  spool: Pick<EventSpool, 'knows' | 'hasExit' | 'inFlight' | 'dispatched'>;
  log: Logger;
  /** Re-attaching gives up (the run ends `lost`) after agentd has been unreachable this long. */
  reattachGiveUpMs?: number;
  /**
   * A new run waits this long for an agentd that refuses connections (starting, or restarting
   * after a crash) before it fails: a node that has just connected may get its queued runs
   * before its agentd listens.
   */
  agentWaitMs?: number;
}

/** A run whose stream ended this many times in a row without a new event is given up. */
const FRUITLESS_ATTACHES = 3;
/** Errors that mean the request never reached agentd: the run cannot have started. */
const NOT_SENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EADDRNOTAVAIL']);

type ExitStatus = 'error' | 'lost';


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
  const seq = e.seq ?? 0;
  switch (e.type) {
    case 'started': return { runId: e.runId, seq, started: { atMs: e.atMs, pid: e.pid } };
    case 'output': return { runId: e.runId, seq, output: { stream: e.stream, data: e.data, atMs: e.atMs } };
    case 'data': return { runId: e.runId, seq, fileData: { offset: e.offset, data: Buffer.from(e.data, 'base64') } };
    case 'exit': return {
      runId: e.runId, seq,
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

/** A download's piece could not go on to the manager. */
class DownloadStopped extends Error {}

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

  /** Re-attaches to the runs a previous hostd left in flight. */
  async start(): Promise<void> {
    for (const { runId, lastSeq } of this.opts.spool.inFlight()) {
      this.opts.log.info({ runId, after: lastSeq }, 'run in flight when hostd stopped: re-attaching to it in agentd');
      this.track(runId, (signal) => this.follow(runId, lastSeq, undefined, signal, 'hostd restarted', Date.now()));
    }
  }

  /** The runs go on in agentd; the next hostd re-attaches to them. */
  async stop(): Promise<void> {
    if (this.runs.size > 0) this.opts.log.info({ runs: [...this.runs.keys()] }, 'hostd stopping: leaving running tasks to agentd (the next hostd re-attaches)');
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
   * Runs a killed agentd left behind, ended by its successor: each ends on the manager as `lost`
   * now, instead of waiting out its task's timeout. A run this hostd follows learns the same from
   * agentd when it re-attaches, and one whose exit is spooled has ended already.
   */
  reportLost(runs: readonly { runId: string; killed: boolean }[]): void {
    for (const r of runs) {
      if (this.runs.has(r.runId) || this.opts.spool.hasExit(r.runId)) {
        this.opts.log.debug({ runId: r.runId }, 'lost run already reported');
        continue;
      }
      this.opts.log.warn({ runId: r.runId, killed: r.killed }, 'reporting a run lost with a killed agentd');
      this.end(r.runId, 'lost', lostRunMessage(r.killed));
    }
  }

  /** The manager stream dropped: uploads in flight cannot get the rest of their content. */
  linkLost(): void {
    for (const upload of this.uploads.values()) upload.abort('the manager connection dropped mid-transfer');
  }

  /** Starts relaying one run; a dispatch of a run hostd already knows (in flight, or ended with events unacknowledged) is ignored. */
  dispatch(d: Dispatch__Output): void {
    if (this.runs.has(d.runId) || this.opts.spool.knows(d.runId)) {
      this.opts.log.info({ runId: d.runId }, 'run already known; ignoring the repeated dispatch');
      return;
    }
    this.opts.spool.dispatched(d.runId);
    this.track(d.runId, (signal) => this.exec(d, signal));
  }

  async cancel(runId: string): Promise<void> {
    const path = AGENT_API.cancel(runId);
    const body = '{}';
    try {
      const res = await this.request('POST', path, body);
      const text = await readText(res);
      if ((res.statusCode ?? 0) >= 300) this.opts.log.warn({ runId, status: res.statusCode, body: text.slice(0, 500) }, 'agentd did not cancel the run');
      else this.opts.log.info({ runId }, 'cancel passed to agentd');
    } catch (err) {
      this.opts.log.warn({ runId, err: (err as Error).message }, 'cancel could not reach agentd');
    }
  }

  private track(runId: string, work: (signal: AbortSignal) => Promise<void>): void {
    const controller = new AbortController();
    this.runs.set(runId, controller);
    void work(controller.signal).finally(() => {
      this.runs.delete(runId);
      this.uploads.get(runId)?.abort('the run ended');
      this.uploads.delete(runId);
    });
  }

  /** An exit hostd makes itself (seq 0): the run cannot be relayed, or agentd no longer has it. */
  private end(runId: string, status: ExitStatus, error: string, errorCode = 0, startedAt?: number): void {
    this.opts.log.warn({ runId, status, error }, status === 'lost' ? 'run lost' : 'run failed in hostd');
    const durationMs = startedAt === undefined ? 0 : Date.now() - startedAt;
    this.opts.emit({ runId, seq: 0, exited: { atMs: Date.now(), exitCode: -1, signal: '', durationMs, status, error, errorCode, resultJson: '' } });
  }

  /** A signed request to agentd; resolves with the response as soon as its headers arrive. */
  private request(method: 'GET' | 'POST', path: string, body: string, signal?: AbortSignal): Promise<IncomingMessage> {
    const headers = {
      ...(method === 'POST' ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}),
      ...signRequest({ method, path, body, keyId: HOSTD_KEY_ID, secret: this.opts.secret() }),
    };
    return new Promise((resolve, reject) => {
      const req = request(this.baseUrl + path, { method, agent: this.agent, headers, signal }, resolve);
      req.once('error', reject);
      req.end(method === 'POST' ? body : undefined);
    });
  }

  /**
   * POST /v1/exec, sent again while agentd refuses connections (it is starting, or restarting
   * after a crash), up to agentWaitMs: a request that never reached agentd cannot start the run twice.
   */
  private async postWaitingForAgent(runId: string, body: string, signal: AbortSignal): Promise<IncomingMessage> {
    const waitUntil = Date.now() + (this.opts.agentWaitMs ?? 20_000);
    for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
      try {
        return await this.request('POST', AGENT_API.exec, body, signal);
      } catch (err) {
        const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
        const code = e.cause?.code ?? e.code ?? '';
        if (!NOT_SENT.has(code) || signal.aborted || Date.now() + delay > waitUntil) throw err;
        if (delay === 100) this.opts.log.info({ runId, code }, 'agentd does not answer yet; waiting for it');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private async exec(d: Dispatch__Output, signal: AbortSignal): Promise<void> {
    const startedAt = Date.now();
    const { log } = this.opts;
    const fail = (error: string, errorCode = 0) => this.end(d.runId, 'error', error, errorCode, startedAt);
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
    let res: IncomingMessage;
    try {
      res = await this.postWaitingForAgent(d.runId, body, signal);
    } catch (err) {
      if (signal.aborted) return; // hostd stopping: the next hostd re-attaches
      const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
      const code = e.cause?.code ?? e.code ?? '';
      if (NOT_SENT.has(code)) {
        upload?.abort('agentd is unreachable');
        return fail(`agentd unreachable at ${this.baseUrl}: ${e.message}${code && !e.message.includes(code) ? ` (${code})` : ''}`);
      }
      // The request may have reached agentd: look for the run there rather than start it again.
      log.warn({ runId: d.runId, err: e.message }, 'the exec request to agentd broke; looking for the run in agentd');
      return this.follow(d.runId, 0, undefined, signal, 'the exec request to agentd broke', startedAt);
    }
    if (res.statusCode === 409) {
      const text = await readText(res).catch(() => '');
      upload?.abort('agentd already has the run');
      log.info({ runId: d.runId, answer: text.slice(0, 300) }, 'agentd already has the run; re-attaching instead of starting it again');
      return this.follow(d.runId, 0, undefined, signal, 'agentd already had the run', startedAt);
    }
    if (res.statusCode !== 200) {
      const refusal = parseRefusal(await readText(res).catch(() => ''));
      upload?.abort('agentd refused the run');
      return fail(`agentd refused the run (HTTP ${res.statusCode}): ${refusal.message}`, refusal.code);
    }
    // agentd has the run now: its content may follow.
    upload?.open();
    await this.follow(d.runId, 0, res, signal, 'the stream from agentd broke', startedAt);
  }

  /**
   * Relays the run's events from `first` (or from a re-attach after seq `after`) until its exit,
   * re-attaching whenever the stream breaks first. Ends the run as `lost` when agentd no longer
   * knows it or stays unreachable; returns without an exit when hostd stops (`signal`).
   */
  private async follow(runId: string, after: number, first: IncomingMessage | undefined, signal: AbortSignal, why: string, startedAt: number): Promise<void> {
    const { log } = this.opts;
    const giveUpMs = this.opts.reattachGiveUpMs ?? 120_000;
    const backoff = new Backoff(250, 5_000);
    let last = after;
    let res = first;
    let unreachableSince = 0;
    let fruitless = 0;
    for (;;) {
      if (!res) {
        try {
          res = await this.request('GET', AGENT_API.events(runId, last), '', signal);
        } catch (err) {
          if (signal.aborted) return;
          unreachableSince ||= Date.now();
          if (Date.now() - unreachableSince >= giveUpMs) {
            return this.end(runId, 'lost', `${why}, and agentd stayed unreachable for ${Math.round(giveUpMs / 1000)} s: ${(err as Error).message}`, 0, startedAt);
          }
          if (!(await sleep(backoff.next(), true, { signal }).catch(() => false))) return;
          continue;
        }
        unreachableSince = 0;
        if (res.statusCode !== 200) {
          const status = res.statusCode;
          const refusal = parseRefusal(await readText(res).catch(() => ''));
          res = undefined;
          if (status === 404) {
            // Asked after a restart of agentd, the ledger's words say what became of the run.
            return this.end(runId, 'lost', refusal.lost ? refusal.message : `${why}, and agentd no longer knows the run (${refusal.message})`, 0, startedAt);
          }
          if (++fruitless >= FRUITLESS_ATTACHES) return this.end(runId, 'error', `re-attaching to the run failed (HTTP ${status}): ${refusal.message}`, 0, startedAt);
          if (!(await sleep(backoff.next(), true, { signal }).catch(() => false))) return;
          continue;
        }
        log.info({ runId, after: last }, 're-attached to the run in agentd');
      }
      const before = last;
      try {
        if (await this.relayStream(runId, res, last, (seq) => { last = seq; })) return;
      } catch (err) {
        if (!(err instanceof DownloadStopped)) throw err;
        void this.cancel(runId);
        return this.end(runId, 'error', `download stopped: ${err.message}`, 0, startedAt);
      }
      res = undefined;
      if (signal.aborted) return;
      if (last > before) {
        fruitless = 0;
        backoff.reset();
      } else if (++fruitless >= FRUITLESS_ATTACHES) {
        return this.end(runId, 'error', `agentd ended the run's output stream ${FRUITLESS_ATTACHES} times without an exit event`, 0, startedAt);
      }
      log.warn({ runId, last }, `${why} before the run's exit; re-attaching`);
      why = 'the stream from agentd broke';
    }
  }

  /** Forwards the stream's events with seq > `after`; true once the exit went out, false when the stream ended or broke first. */
  private async relayStream(runId: string, res: IncomingMessage, after: number, advanced: (seq: number) => void): Promise<boolean> {
    const { emit, log } = this.opts;
    try {
      for await (const line of readLines(res)) {
        let event: AgentExecEvent;
        try {
          event = JSON.parse(line) as AgentExecEvent;
        } catch {
          log.warn({ runId, line: line.slice(0, 200) }, 'ignoring a malformed line from agentd');
          continue;
        }
        if (event.seq !== undefined && event.seq <= after) continue;
        const taskEvent = toTaskEvent(event);
        if (!taskEvent) continue;
        if (taskEvent.fileData) {
          // A download's piece waits for the manager stream, which holds agentd back in turn.
          const error = await this.opts.emitData?.(taskEvent).then(() => undefined, (err: Error) => err);
          if (error) {
            res.destroy();
            throw new DownloadStopped(error.message);
          }
        } else {
          emit(taskEvent);
        }
        if (event.seq !== undefined) {
          after = event.seq;
          advanced(event.seq);
        }
        if (taskEvent.exited) return true;
      }
    } catch (err) {
      if (err instanceof DownloadStopped) throw err;
      log.debug({ runId, err: (err as Error).message }, 'the stream from agentd broke');
    }
    return false;
  }
}

/** agentd's error envelope, as far as it can be read. */
function parseRefusal(text: string): { message: string; code: number; lost: boolean } {
  try {
    const e = JSON.parse(text) as { message?: string; code?: number; data?: { lost?: boolean } | null };
    return { message: e.message ?? text.slice(0, 1000), code: Number.isInteger(e.code) ? e.code! : 0, lost: e.data?.lost === true };
  } catch {
    return { message: text.slice(0, 1000), code: 0, lost: false };
  }
}
