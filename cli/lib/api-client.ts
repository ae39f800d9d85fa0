// The typed client of the manager's REST API. Every response is the envelope {code, message, data,
// timestamp}; this unwraps `data` or throws ApiError with the server's message and code, and turns
// network failures into one UnreachableError naming the address. Requests go over node:http(s)
// (http-request.ts), an HTTPS manager's checked against the CA pinned for it (known-cas.ts).
import type { Readable } from 'node:stream';
import { ApiError, CliError, UnreachableError } from './errors.js';
import { requestSender, type HttpResponse, type SendRequest } from './http-request.js';
import { errorCode, networkReason, UNTRUSTED_CHAIN } from './network-errors.js';
import type { PinnedCa } from './known-cas.js';

// Same value as API_PREFIX in proto/rest/common.ts, which cannot be imported at run time: it loads TypeBox.
const API_PREFIX = '/api/v1';
/** Tries of a GET whose connection was cut before any answer (see send). */
const GET_ATTEMPTS = 3;
const CUT_CONNECTION = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET']);
const REQUEST_TIMEOUT_MS = 30_000;

export interface RequestOptions {
  /** Send the bearer token (default true); login is the only call without it. */
  auth?: boolean;
  signal?: AbortSignal;
  /** More request headers (e.g. Last-Event-ID to resume an event stream). */
  headers?: Record<string, string>;
}

export interface PagesOptions {
  /** At most this many rows in all (default: every row). */
  limit?: number;
  /** Rows asked for per request (default: DEFAULT_PAGE_SIZE, or $OPSCTL_PAGE_SIZE). */
  pageSize?: number;
}

/** Rows per request when a command reads a list: large enough for few round trips, within the manager's 1000. */
export const DEFAULT_PAGE_SIZE = 500;

/** $OPSCTL_PAGE_SIZE (1..1000) overrides the page size: tests use small pages to cross page boundaries. */
function pageSizeFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.OPSCTL_PAGE_SIZE);
  return Number.isInteger(n) && n >= 1 && n <= 1000 ? n : DEFAULT_PAGE_SIZE;
}

export class ApiClient {
  private sender?: Promise<SendRequest>;

  /** `pinnedCa`: an HTTPS manager's chain is verified against this CA alone (opsctl login pinned it). */
  constructor(readonly server: string, readonly token?: string, readonly pinnedCa?: PinnedCa) {}

  /** A client for `server` trusting the CA pinned for it, if any. */
  static async open(server: string, token?: string): Promise<ApiClient> {
    // Loaded only for HTTPS: a plain-HTTP command reads no more files than before.
    const pinned = server.startsWith('https:') ? await (await import('./known-cas.js')).findPinnedCa(server) : undefined;
    return new ApiClient(server, token, pinned);
  }

  private sendRequest(): Promise<SendRequest> {
    return (this.sender ??= requestSender(this.server, this.pinnedCa?.pem));
  }

  /**
   * The error for a request that failed before any answer. A chain the pinned CA did not sign is
   * looked at again to name both CAs; an HTTPS manager nobody pinned gets the way to pin it.
   */
  private async networkError(err: unknown): Promise<CliError> {
    const code = errorCode(err);
    if (code && UNTRUSTED_CHAIN.has(code) && this.server.startsWith('https:')) {
      if (this.pinnedCa) {
        const { presentedCa } = await import('./server-ca.js');
        const { CaChangedError } = await import('./known-cas.js');
        const presented = await presentedCa(this.server).catch(() => undefined);
        if (presented?.fingerprint && presented.fingerprint !== this.pinnedCa.fingerprint) {
          return new CaChangedError(this.server, this.pinnedCa.fingerprint, presented.fingerprint);
        }
      } else {
        return new UnreachableError(this.server, `${networkReason(err)}; run 'opsctl login --server ${this.server}' to check and pin the manager's CA`);
      }
    }
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return new UnreachableError(this.server, `${networkReason(err)}; use a name it has, or add this one to the manager's http.tlsAltNames`);
    }
    return new UnreachableError(this.server, networkReason(err));
  }

  private headers(auth: boolean, json: boolean): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (json) headers['content-type'] = 'application/json';
    if (auth) {
      if (!this.token) throw new CliError(`not logged in to ${this.server}: run 'opsctl login --server ${this.server}'`);
      headers.authorization = `Bearer ${this.token}`;
    }
    return headers;
  }

  private async send(method: string, path: string, body: unknown, opts: RequestOptions, accept?: string): Promise<HttpResponse> {
    const auth = opts.auth ?? true;
    const headers = this.headers(auth, body !== undefined);
    if (accept) headers.accept = accept;
    Object.assign(headers, opts.headers);
    const send = await this.sendRequest();
    for (let attempt = 1; ; attempt++) {
      try {
        return await send(`${this.server}${API_PREFIX}${path}`, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: opts.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      } catch (err) {
        if ((err as Error).name === 'AbortError' && opts.signal?.aborted) throw err;
        // A read whose connection was cut before any answer — behind a balancer, the replica holding
        // a kept-alive connection died — is asked again on a new connection, which reaches another.
        if (method === 'GET' && attempt < GET_ATTEMPTS && CUT_CONNECTION.has(errorCode(err) ?? '')) {
          await new Promise((r) => setTimeout(r, 200 * attempt));
          continue;
        }
        throw await this.networkError(err);
      }
    }
  }

  /** Reads an error envelope (or says the answer was not one) and throws it. */
  private async fail(res: HttpResponse, auth: boolean): Promise<never> {
    const text = await res.text().catch(() => '');
    let env: { code?: unknown; message?: unknown } | undefined;
    try { env = JSON.parse(text) as typeof env; } catch { env = undefined; }
    if (env && typeof env.code === 'number' && typeof env.message === 'string') {
      const err = new ApiError(env.message, env.code, res.status);
      if (auth && res.status === 401) err.message += `; run 'opsctl login --server ${this.server}' to sign in again`;
      throw err;
    }
    throw new CliError(`unexpected answer from the manager at ${this.server}: HTTP ${res.status} ${res.statusText}`.trim());
  }

  async request<T>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
    return (await this.requestEnvelope(method, path, body, opts)).data as T;
  }

  /** The whole envelope: `data`, and `next` for a page of a list. */
  private async requestEnvelope(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<{ data: unknown; next?: unknown }> {
    const auth = opts.auth ?? true;
    const res = await this.send(method, path, body, opts);
    if (!res.ok) return this.fail(res, auth);
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new UnreachableError(this.server, networkReason(err));
    }
    let env: { code?: unknown; data?: unknown; next?: unknown };
    try {
      env = JSON.parse(text) as typeof env;
    } catch {
      throw new CliError(`unexpected answer from the manager at ${this.server}: ${method} ${path} did not return JSON`);
    }
    if (typeof env?.code !== 'number' || !('data' in env)) {
      throw new CliError(`unexpected answer from the manager at ${this.server}: ${method} ${path} did not return an envelope`);
    }
    return env as { data: unknown; next?: unknown };
  }

  /**
   * The rows of a list route, page by page as the manager sends them (its `next` cursor), so a
   * command prints while the rest is on its way. `limit`: at most this many rows in all.
   * A manager that does not page sends everything at once, without `next`.
   */
  async *pages<T>(path: string, query: Record<string, string> | URLSearchParams = {}, opts: PagesOptions = {}): AsyncGenerator<T[]> {
    let remaining = opts.limit ?? Infinity;
    const pageSize = opts.pageSize ?? pageSizeFromEnv();
    let cursor: string | null = null;
    do {
      const q = new URLSearchParams(query);
      q.set('limit', String(Math.min(pageSize, remaining)));
      if (cursor !== null) q.set('cursor', cursor);
      const env = await this.requestEnvelope('GET', `${path}?${q}`);
      if (!Array.isArray(env.data)) throw new CliError(`unexpected answer from the manager at ${this.server}: GET ${path} did not return a list`);
      const rows = (env.data as T[]).slice(0, remaining);
      remaining -= rows.length;
      cursor = typeof env.next === 'string' && env.next !== '' ? env.next : null;
      yield rows;
    } while (cursor !== null && remaining > 0);
  }

  /** Every row of a list route (all its pages). */
  async all<T>(path: string, query: Record<string, string> | URLSearchParams = {}, opts: PagesOptions = {}): Promise<T[]> {
    const out: T[] = [];
    for await (const rows of this.pages<T>(path, query, opts)) out.push(...rows);
    return out;
  }

  get<T>(path: string, opts?: RequestOptions): Promise<T> { return this.request<T>('GET', path, undefined, opts); }
  post<T>(path: string, body: unknown, opts?: RequestOptions): Promise<T> { return this.request<T>('POST', path, body, opts); }
  put<T>(path: string, body: unknown, opts?: RequestOptions): Promise<T> { return this.request<T>('PUT', path, body, opts); }
  patch<T>(path: string, body: unknown, opts?: RequestOptions): Promise<T> { return this.request<T>('PATCH', path, body, opts); }
  /** DELETE usually has no body; pass one only where the route takes it. */
  delete<T = null>(path: string, body?: unknown, opts?: RequestOptions): Promise<T> { return this.request<T>('DELETE', path, body, opts); }

  /**
   * Sends a file as the raw body of a PUT (or `opts.method`), streamed from disk (no timeout: a
   * large file takes what it takes); `opts.headers` go with it (a release's signed manifest).
   */
  async putFile<T>(path: string, body: Readable, size: number, opts: { method?: 'PUT' | 'POST'; headers?: Record<string, string> } = {}): Promise<T> {
    const method = opts.method ?? 'PUT';
    const headers = { ...this.headers(true, false), ...opts.headers, 'content-type': 'application/octet-stream', 'content-length': String(size) };
    const send = await this.sendRequest();
    let status: number;
    let text: string;
    try {
      const res = await send(`${this.server}${API_PREFIX}${path}`, { method, headers, body });
      status = res.status;
      text = await res.text();
    } catch (err) {
      throw await this.networkError(err);
    }
    let env: { code?: number; message?: string; data?: T } | undefined;
    try { env = JSON.parse(text) as typeof env; } catch { env = undefined; }
    if (status >= 300 || !env || typeof env.code !== 'number') {
      if (env && typeof env.code === 'number' && typeof env.message === 'string') throw new ApiError(env.message, env.code, status);
      throw new CliError(`unexpected answer from the manager at ${this.server}: HTTP ${status} to ${method} ${path}`);
    }
    return env.data as T;
  }

  /** Opens a file the manager streams (a download's copy); the caller reads the body. */
  async openFile(path: string, signal?: AbortSignal): Promise<{ body: Readable; size: number; sha256: string }> {
    const res = await this.send('GET', path, undefined, { signal: signal ?? new AbortController().signal }, 'application/octet-stream');
    if (!res.ok) return this.fail(res, true);
    return { body: res.body, size: Number(res.header('content-length') ?? -1), sha256: res.header('x-ops-sha256') ?? '' };
  }

  /**
   * Opens a Server-Sent Events stream; the caller reads the body and aborts `signal` to stop.
   * `lastEventId` resumes after that event. The connection dropping mid-stream is an
   * UnreachableError, as failing to connect is: a follower may reconnect after either.
   */
  async openEventStream(path: string, signal: AbortSignal, lastEventId?: number): Promise<AsyncIterable<Uint8Array>> {
    const headers = lastEventId === undefined ? undefined : { 'last-event-id': String(lastEventId) };
    const res = await this.send('GET', path, undefined, { signal, headers }, 'text/event-stream');
    if (!res.ok) return this.fail(res, true);
    return this.readOrUnreachable(res.body, signal);
  }

  private async *readOrUnreachable(body: AsyncIterable<Uint8Array>, signal: AbortSignal): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of body) yield chunk;
    } catch (err) {
      if (signal.aborted) throw err;
      throw new UnreachableError(this.server, networkReason(err));
    }
  }
}
