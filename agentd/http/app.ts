// agentd's HTTP API as a Fastify app, built apart from listen() so tests can inject requests.
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { AGENT_API, type AgentHealth } from '../../proto/agent-api.js';
import { ErrorCode, OpsError, envelope } from '../../proto/errors.js';
import { NonceCache } from '../../proto/signing.js';
import type { Logger } from '../../lib/log.js';
import { opsVersion } from '../../lib/version.js';
import type { AgentExecutor } from '../exec/executor.js';
import type { LostRun } from '../exec/run-ledger.js';
import { registerContentRoute } from './content-route.js';
import type { AllowList } from '../ip-allow.js';
import { authenticateAndParse, checkClientAddress, type AuthOptions } from './auth.js';
import { installErrorHandler } from './errors.js';
import { registerExecRoute } from './exec-route.js';
import { PersistentNonceCache } from './nonce-store.js';
import { RunIdParamsSchema } from './schemas.js';
import { StreamTracker } from './stream-tracker.js';

export const BODY_LIMIT_BYTES = 2 * 1024 * 1024;

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

export function buildAgentApp(opts: AgentAppOptions): FastifyInstance {
  const startedAtMs = opts.startedAtMs ?? Date.now();
  const auth: AuthOptions = { allow: opts.allow, lookupSecret: opts.lookupSecret, nonces: opts.nonces ?? new NonceCache() };
  const app = Fastify({
    loggerInstance: opts.log,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    // Strict bodies: no silent dropping of unknown fields, no "123" → 123 coercion.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true } },
    ...(opts.tls ? { https: { cert: opts.tls.cert, key: opts.tls.key } } : {}),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;

  // The signature covers the exact bytes sent, so the body is kept raw until it has been verified.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  // An upload's content is streamed to its run, never held in memory; its signed hash is checked as it is read.
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));

  installErrorHandler(app, opts.log);
  // Before the first request: a nonce file agentd cannot use stops it at start, not at every request;
  // and scripts a killed predecessor left running are ended before new ones start.
  app.addHook('onReady', async () => {
    if (auth.nonces instanceof PersistentNonceCache) auth.nonces.open();
    opts.executor.endPreviousLives();
  });
  app.addHook('onRequest', async (request) => checkClientAddress(request, auth.allow));
  app.addHook('preValidation', async (request) => authenticateAndParse(request, auth));
  // The hooks above run for unknown routes too: an unsigned probe learns nothing but 401.
  app.setNotFoundHandler(async (request) => {
    throw new OpsError(ErrorCode.NOT_FOUND, `no route ${request.method} ${request.url}`);
  });

  app.get(AGENT_API.health, async () => envelope(agentHealth(opts.executor, startedAtMs)));

  registerExecRoute(app, opts.executor, opts.streams ?? new StreamTracker(), opts.log);

  registerContentRoute(app, opts.executor);

  app.post('/v1/exec/:runId/cancel', { schema: { params: RunIdParamsSchema } }, async (request) => {
    const { runId } = request.params as { runId: string };
    const result = opts.executor.cancel(runId);
    if (result === 'unknown') throw new OpsError(ErrorCode.NOT_FOUND, `no run ${runId}`);
    return envelope({ cancelled: result === 'cancelled' });
  });

  return app;
}
