// The one request helper every API module goes through: same-origin fetch with the session's
// bearer token, the {code, message, data} envelope unwrapped, failures as ApiError with the
// manager's code (proto/errors.ts), and a refused token ending the session.
import { ErrorCode } from '../../../proto/errors';
import type { Page } from '../../../proto/rest/common';
import { session } from './session';

export class ApiError extends Error {
  /** status 0: no answer (the manager is down or unreachable). */
  constructor(readonly status: number, readonly code: number, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /** No token sent, and a 401 is the answer itself (a wrong password), not an ended session. */
  anonymous?: boolean;
}

interface Envelope<T> { code: number; message: string; data: T; next?: string | null }

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export function authHeaders(): Record<string, string> {
  const token = session.token();
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** What a failed answer means to the app: an ended session is handled here, once. */
export function failure(status: number, code: number, message: string, anonymous = false): ApiError {
  if (status === 401 && !anonymous) session.expire();
  return new ApiError(status, code, message);
}

export const NO_ANSWER = 'the manager did not answer';

async function call<T>(method: string, path: string, opts: RequestOptions = {}): Promise<Envelope<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...(opts.anonymous ? {} : authHeaders()) };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(withQuery(path, opts.query), {
      method, headers, signal: opts.signal, body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    throw new ApiError(0, ErrorCode.UNAVAILABLE, NO_ANSWER);
  }
  let env: Envelope<T> | undefined;
  try {
    env = (await res.json()) as Envelope<T>;
  } catch {
    env = undefined;
  }
  if (!res.ok || !env || env.code !== ErrorCode.OK) {
    throw failure(res.status, env?.code ?? ErrorCode.INTERNAL, env?.message ?? `${res.status} ${res.statusText}`, opts.anonymous);
  }
  return env;
}

export async function request<T>(method: string, path: string, opts?: RequestOptions): Promise<T> {
  return (await call<T>(method, path, opts)).data;
}

export const get = <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>('GET', path, { query, signal });
export const post = <T>(path: string, body?: unknown) => request<T>('POST', path, { body });


export type { Page };

/** One page of a list route: its rows and the cursor of the next page (null: the last). */
export async function getPage<T>(path: string, query: Query, signal?: AbortSignal): Promise<Page<T>> {
  const env = await call<T[]>('GET', path, { query, signal });
  return { data: env.data, next: env.next ?? null };
}
