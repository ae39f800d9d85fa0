// agentd's HTTP API on node:http: a handful of routes, each request taken through the same steps —
// client address (403), body read within its limit (413) and media type (415), signature (401),
// route (404), schemas (400), handler — and answered in the standard envelope or as NDJSON.
// (Fastify did this before; it cost agentd about 5 MB of private memory for five routes.) Built
// apart from listen() so tests can serve it or hand it requests directly (handle).
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { parse as parseQuery } from 'node:querystring';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import type { ValidateFunction } from 'ajv';
import { AGENT_API, type AgentHealth } from '../../proto/agent-api.js';
import { ErrorCode, OpsError, envelope } from '../../proto/errors.js';
import { NonceCache } from '../../proto/signing.js';
import type { Logger } from '../../lib/log.js';
import { opsVersion } from '../../lib/version.js';
import type { AgentExecutor } from '../exec/executor.js';
import type { LostRun } from '../exec/run-ledger.js';
import type { AllowList } from '../ip-allow.js';
import { authenticateAndParse, checkClientAddress, type AuthOptions } from './auth.js';
import { contentRoute } from './content-route.js';
import { errorResponse, HttpError } from './errors.js';
import { execRoutes } from './exec-route.js';
import { PersistentNonceCache } from './nonce-store.js';
import type { AgentRequest, Route, RouteReply } from './route.js';
import { RunIdParamsSchema } from './schemas.js';
import { StreamTracker } from './stream-tracker.js';
import { compileSchema, validatePart, type RequestPart } from './validate.js';

export const BODY_LIMIT_BYTES = 2 * 1024 * 1024;
/** Longer than hostd's keep-alive agent holds an idle connection, so agentd is never the one to drop it mid-reuse. */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

export interface AgentAppOptions {
  executor: AgentExecutor;
  lookupSecret: (keyId: string) => string | Buffer | undefined;
  allow: AllowList;
  log: Logger;
  /** PEM certificate and key: serve HTTPS instead of HTTP. */
  tls?: { cert: Buffer; key: Buffer };
  /** Pass a PersistentNonceCache so a request stays spent across restarts (agentd/state.ts). */
  nonces?: NonceCache;
  /** When agentd started, for uptimeSeconds. */
  startedAtMs?: number;
  /** Tracks NDJSON responses in flight; pass one to let shutdown wait for them (ApiServer). */
  streams?: StreamTracker;
}

/**
 * `lostRuns`: runs a previous agentd left running when it was killed, ended by this one. The
 * JSON-RPC link has no run-event message to report them to hostd, so they are logged (warn, with
 * their run ids) and listed here.
 */
export function agentHealth(executor: AgentExecutor, startedAtMs: number): AgentHealth & { lostRuns: readonly LostRun[] } {
  return {
    status: 'ok',
    version: opsVersion(),
    pid: process.pid,
    uptimeSeconds: Math.floor((Date.now() - startedAtMs) / 1000),
    running: executor.running,
    queued: executor.queued,
    maxConcurrent: executor.maxConcurrent,
    ...executor.capabilities(),
    lostRuns: executor.lostRuns,
  };
}

interface CompiledRoute {
  route: Route;
  segments: string[];
  validators: [RequestPart, ValidateFunction][];
}

/** The JSON body's bytes (kept raw: the signature covers them), an upload's stream, or undefined. */
function readBody(req: IncomingMessage): Promise<Buffer | Readable | undefined> {
  if (req.method === 'GET' || req.method === 'HEAD') return Promise.resolve(undefined);
  const contentType = req.headers['content-type'];
  // Without a media type only an empty body is understood; with one, even an empty body is read
  // as that type (an empty upload is content too).
  if (contentType === undefined) {
    const length = req.headers['content-length'];
    if (req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) return Promise.resolve(undefined);
  }
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  // An upload's content is streamed to its run, never held in memory; its signed hash is checked as it is read.
  if (type === 'application/octet-stream') return Promise.resolve(req);
  if (type !== 'application/json') return Promise.reject(new HttpError(415, `Unsupported Media Type: ${type || 'none given'}`));
  const tooLarge = () => new HttpError(413, `request body is too large (limit ${BODY_LIMIT_BYTES} bytes)`);
  if (Number(req.headers['content-length'] ?? 0) > BODY_LIMIT_BYTES) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT_BYTES) { req.off('data', onData); reject(tooLarge()); return; }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
    req.once('aborted', () => reject(new HttpError(400, 'request aborted')));
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendReply(res: ServerResponse, reply: RouteReply): void {
  if ('ndjson' in reply) {
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache' });
    // A client gone mid-stream destroys the stream too, so whoever writes to it stops waiting.
    pipeline(reply.ndjson, res, () => { /* the route's own close handler says what it means */ });
    return;
  }
  sendJson(res, reply.status ?? 200, envelope(reply.data));
}

export class AgentApp {
  server?: Server;
  private readonly routes: CompiledRoute[];
  private readonly auth: AuthOptions;
  private readyOnce?: Promise<void>;

  constructor(private readonly opts: AgentAppOptions) {
    const startedAtMs = opts.startedAtMs ?? Date.now();
    this.auth = { allow: opts.allow, lookupSecret: opts.lookupSecret, nonces: opts.nonces ?? new NonceCache() };
    const routes: Route[] = [
      { method: 'GET', path: AGENT_API.health, handler: async () => ({ data: agentHealth(opts.executor, startedAtMs) }) },
      ...execRoutes(opts.executor, opts.streams ?? new StreamTracker(), opts.log),
      contentRoute(opts.executor),
      {
        method: 'POST', path: '/v1/exec/:runId/cancel', schema: { params: RunIdParamsSchema },
        handler: async (request) => {
          const { runId } = request.params;
          const result = opts.executor.cancel(runId);
          if (result === 'unknown') throw new OpsError(ErrorCode.NOT_FOUND, `no run ${runId}`);
          return { data: { cancelled: result === 'cancelled' } };
        },
      },
    ];
    this.routes = routes.map((route) => ({
      route,
      segments: route.path.split('/'),
      // Checked in this order: the path, then the body, then the query.
      validators: (['params', 'body', 'querystring'] as const)
        .filter((part) => route.schema?.[part])
        .map((part) => [part, compileSchema(route.schema![part]!)] as [RequestPart, ValidateFunction]),
    }));
  }

  /**
   * Before the first request: a nonce file agentd cannot use stops it at start, not at every
   * request; and scripts a killed predecessor left running are ended before new ones start.
   */
  ready(): Promise<void> {
    this.readyOnce ??= (async () => {
      if (this.auth.nonces instanceof PersistentNonceCache) this.auth.nonces.open();
      this.opts.executor.endPreviousLives();
    })();
    return this.readyOnce;
  }

  /** The request handler (node:http's shape). */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => { void this.serve(req, res); };

  async listen(address: { host: string; port: number }): Promise<void> {
    await this.ready();
    const server = this.opts.tls ? createHttpsServer({ cert: this.opts.tls.cert, key: this.opts.tls.key }, this.handle) : createHttpServer(this.handle);
    // An upload or a run's stream may take as long as it takes; idle keep-alive connections are kept a while.
    server.requestTimeout = 0;
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address.port, address.host, () => { server.off('error', reject); resolve(); });
    });
    this.server = server;
  }

  /** Stops accepting connections and closes idle ones; resolves when the last connection ends. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server?.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await closed;
  }

  private match(method: string, pathname: string): { route: CompiledRoute; params: Record<string, string> } | undefined {
    const parts = pathname.split('/');
    for (const route of this.routes) {
      if (route.route.method !== method || route.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      const fits = route.segments.every((segment, i) => {
        if (!segment.startsWith(':')) return segment === parts[i];
        try {
          params[segment.slice(1)] = decodeURIComponent(parts[i]);
        } catch {
          throw new OpsError(ErrorCode.INVALID_ARGUMENT, `'${pathname}' is not a valid url component`);
        }
        return true;
      });
      if (fits) return { route, params };
    }
    return undefined;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request: AgentRequest = { raw: req, res, method: req.method ?? 'GET', url: req.url ?? '/', params: {}, query: {}, body: undefined };
    try {
      checkClientAddress(req.socket.remoteAddress, this.auth.allow);
      // Read (and the limit applied) before the signature, which covers the body's bytes.
      const raw = await readBody(req);
      // The steps above and this one run for unknown routes too: an unsigned probe learns nothing but 401.
      authenticateAndParse(request, raw, this.auth);
      const queryAt = request.url.indexOf('?');
      const pathname = queryAt < 0 ? request.url : request.url.slice(0, queryAt);
      const found = this.match(request.method, pathname);
      if (!found) throw new OpsError(ErrorCode.NOT_FOUND, `no route ${request.method} ${request.url}`);
      request.params = found.params;
      request.query = queryAt < 0 ? {} : (parseQuery(request.url.slice(queryAt + 1)) as Record<string, string>);
      for (const [part, validate] of found.route.validators) {
        validatePart(validate, part, part === 'params' ? request.params : part === 'querystring' ? request.query : request.body);
      }
      sendReply(res, await found.route.route.handler(request));
    } catch (err) {
      if (res.headersSent) { res.destroy(); return; }
      const { status, body } = errorResponse(err, { ip: req.socket.remoteAddress, method: request.method, url: request.url }, this.opts.log);
      if (status === 413) res.setHeader('connection', 'close'); // the rest of the body is not worth reading
      sendJson(res, status, body);
    }
  }
}

export function buildAgentApp(opts: AgentAppOptions): AgentApp {
  return new AgentApp(opts);
}
