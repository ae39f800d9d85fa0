// Relays tasks from the manager to agentd and their events back, as they happen: a Dispatch
// becomes a signed POST /v1/exec, whose NDJSON stream is read line by line and forwarded as
// TaskEvents. If agentd cannot be reached the run still ends, with an `exited` event of status
// `error` saying why, so the manager never waits for a run that will not come.
import { StringDecoder } from 'node:string_decoder';
import { Agent, request, type IncomingMessage } from 'node:http';
import { formatHostPort, parseHostPort } from '../lib/host-port.js';
import type { Logger } from '../lib/log.js';
import type { Subsystem } from '../lib/run-group.js';
import { AGENT_API, type AgentExecEvent, type AgentExecRequest } from '../proto/agent-api.js';
import { HOSTD_KEY_ID } from '../proto/agent-keys-file.js';
import type { Dispatch__Output, TaskEvent } from '../proto/hostlink.js';
import type { Interpreter } from '../proto/rest/tasks.js';
import { signRequest } from '../proto/signing.js';

export interface RelayOptions {
  /** agentd's HTTP address, HOST:PORT (a wildcard host is reached on loopback). */
  agentAddress: string;
  /** The current signing secret for key id "hostd". */
  secret: () => string;
  /** Where task events go (the manager link, which spools them while disconnected). */
  emit: (event: TaskEvent) => void;
  log: Logger;
}

const MAX_LINE_CHARS = 4 * 1024 * 1024;

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
    case 'exit': return {
      runId: e.runId,
      exited: { atMs: e.atMs, exitCode: e.exitCode, signal: e.signal ?? '', durationMs: e.durationMs, status: e.status, error: e.error ?? '' },
    };
    default: return undefined;
  }
}

export class TaskRelay implements Subsystem {
  readonly name = 'task relay';
  private readonly baseUrl: string;
  // node:http rather than undici: agentd is one loopback peer, and undici alone costs hostd about
  // 8 MB of private memory (DESIGN.md §6 gives hostd 15 MB in all).
  private readonly agent = new Agent({ keepAlive: true });
  private readonly runs = new Map<string, AbortController>();

  constructor(private readonly opts: RelayOptions) {
    this.baseUrl = agentBaseUrl(opts.agentAddress);
  }

  get running(): number { return this.runs.size; }

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    if (this.runs.size > 0) this.opts.log.warn({ runs: [...this.runs.keys()] }, 'hostd stopping: abandoning the streams of running tasks');
    for (const controller of this.runs.values()) controller.abort();
    this.agent.destroy();
  }

  /** Starts relaying one run; a second dispatch of a run already in flight is ignored. */
  dispatch(d: Dispatch__Output): void {
    if (this.runs.has(d.runId)) {
      this.opts.log.info({ runId: d.runId }, 'run already in flight; ignoring the repeated dispatch');
      return;
    }
    const controller = new AbortController();
    this.runs.set(d.runId, controller);
    void this.exec(d, controller.signal).finally(() => this.runs.delete(d.runId));
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
    const fail = (error: string) => {
      log.warn({ runId: d.runId, error }, 'run failed in hostd');
      emit({ runId: d.runId, exited: { atMs: Date.now(), exitCode: -1, signal: '', durationMs: Date.now() - startedAt, status: 'error', error } });
    };
    const execRequest: AgentExecRequest = {
      runId: d.runId, script: d.script, env: d.env ?? {},
      ...(d.interpreter ? { interpreter: d.interpreter as Interpreter } : {}),
      ...(d.timeoutMs > 0 ? { timeoutMs: d.timeoutMs } : {}),
    };
    const body = JSON.stringify(execRequest);
    let exited = false;
    try {
      const res = await this.post(AGENT_API.exec, body, signal);
      if (res.statusCode !== 200) {
        const text = await readText(res).catch(() => '');
        let message = text.slice(0, 1000);
        try { message = (JSON.parse(text) as { message?: string }).message ?? message; } catch { /* not JSON */ }
        return fail(`agentd refused the run (HTTP ${res.statusCode}): ${message}`);
      }
      const decoder = new StringDecoder('utf8');
      let buffer = '';
      const onLine = (line: string) => {
        if (!line.trim()) return;
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
        emit(taskEvent);
      };
      for await (const chunk of res) {
        buffer += decoder.write(chunk as Buffer);
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          onLine(buffer.slice(0, nl));
          buffer = buffer.slice(nl + 1);
        }
        if (buffer.length > MAX_LINE_CHARS) throw new Error('agentd sent a line longer than 4 MiB');
      }
      onLine(buffer + decoder.end());
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
