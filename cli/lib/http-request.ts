// The one way opsctl sends a request to the manager: node:http, or node:https for an https://
// manager (with `ca` set to the pinned CA alone when opsctl login pinned one, so no other CA, the
// system's included, can vouch for it). Not fetch: Node's fetch, Response and Headers are undici,
// whose bundled copy costs ~20 ms to load, paid by every command on its first request.
import type { Agent, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';

export interface HttpRequest {
  method: string;
  headers: Record<string, string>;
  /** A string (its content-length is set) or a stream (the caller sets content-length). */
  body?: string | Readable;
  /** Aborts the request, and the reading of its body. */
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  /** 2xx */
  ok: boolean;
  header(name: string): string | undefined;
  /** The body as it arrives: a Node stream, async-iterable in chunks. */
  body: IncomingMessage;
  /** The whole body as UTF-8 text. */
  text(): Promise<string>;
}

export type SendRequest = (url: string, req: HttpRequest) => Promise<HttpResponse>;

/**
 * A sender for one manager, with its own keep-alive agent: a command reading pages reuses its
 * connection, and idle sockets do not hold the process. node:https (TLS) is loaded only for https://.
 */
export async function requestSender(server: string, caPem?: string): Promise<SendRequest> {
  const https = server.startsWith('https:');
  const { Agent: AgentClass, request } = https ? await import('node:https') : await import('node:http');
  const agent: Agent = new AgentClass({ keepAlive: true, ...(https && caPem ? { ca: caPem } : {}) });
  return (url, init) => new Promise<HttpResponse>((resolve, reject) => {
    const { signal } = init;
    if (signal?.aborted) return reject(abortError(signal));
    const headers = { ...init.headers };
    if (typeof init.body === 'string') headers['content-length'] = String(Buffer.byteLength(init.body));
    let response: IncomingMessage | undefined;
    const req = request(url, { method: init.method, headers, agent }, (res) => {
      response = res;
      // Whoever reads the body gets its errors; a body nobody reads must not throw them at the process.
      res.on('error', () => undefined);
      const status = res.statusCode ?? 0;
      resolve({
        status,
        statusText: res.statusMessage ?? '',
        ok: status >= 200 && status < 300,
        header: (name) => { const v = res.headers[name.toLowerCase()]; return Array.isArray(v) ? v.join(', ') : v; },
        body: res,
        text: () => readText(res),
      });
    });
    // Not http.request's own `signal`: it would also destroy a kept-alive socket after the answer
    // was read. An abort ends the body's reading with the abort error (a timeout's says so).
    const onAbort = () => (response ?? req).destroy(abortError(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    req.once('close', () => signal?.removeEventListener('abort', onAbort));
    // Errors after the answer arrived (an abort, a reset) reach the body's reader; `on`, not `once`: a second must not throw.
    req.on('error', reject);
    if (init.body === undefined || typeof init.body === 'string') {
      req.end(init.body);
    } else {
      init.body.once('error', (err) => req.destroy(err));
      init.body.pipe(req);
    }
  });
}

/** What fetch throws when its signal aborts: an AbortError whose `cause` is the signal's reason (a TimeoutError for AbortSignal.timeout). */
function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted', { cause: signal.reason }), { name: 'AbortError', code: 'ABORT_ERR' });
}

async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
