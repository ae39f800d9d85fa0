// The manager's HTTP app, built apart from listen() so tests drive it with app.inject(). It
// assembles the feature modules (server/modules/*/index.ts) under /api/v1, behind one access check
// (http/access.ts) and one audit hook (http/request-audit.ts).
import fastifySwagger from '@fastify/swagger';
import { RequestContext } from '@mikro-orm/core';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createFileOnceSync } from '../lib/atomic-write.js';
import type { Logger } from '../lib/log.js';
import { opsVersion } from '../lib/version.js';
import { API_PREFIX } from '../proto/rest/common.js';
import type { ManagerConfig } from './config.js';
import type { Orm } from './db/orm.js';
import { installAccess } from './http/access.js';
import { installErrorHandlers } from './http/errors.js';
import { HARDENED_SERVER_OPTIONS, installJsonParser, installNulGuard, installValidation } from './http/hardening.js';
import { installRequestAudit } from './http/request-audit.js';
import { endEventStreamsOnClose } from './http/sse.js';
import { loadModules } from './module-loader.js';
import type { ManagerServices } from './services.js';

export const BODY_LIMIT_BYTES = 2 * 1024 * 1024;
export const JWT_SECRET_FILE = 'jwt.secret';

export interface BuildAppOptions {
  config: ManagerConfig;
  orm: Orm;
  log: Logger;
  services: ManagerServices;
  /** Serve HTTPS with this key and certificate chain (PEM); plain HTTP without. */
  https?: { key: string; cert: string };
}

/** auth.jwtSecret, or the secret generated once and kept in <dataDir>/jwt.secret (mode 0600). */
export function jwtSecret(config: ManagerConfig): string {
  if (config.auth.jwtSecret) return config.auth.jwtSecret;
  const file = join(config.dataDir, JWT_SECRET_FILE);
  if (!existsSync(file)) createFileOnceSync(file, `${randomBytes(48).toString('base64url')}\n`, 0o600);
  return readFileSync(file, 'utf8').trim();
}

export async function buildApp(opts: BuildAppOptions): Promise<FastifyInstance> {
  const { config, orm, log, services } = opts;
  const app = Fastify({
    loggerInstance: log,
    // One debug line per request (onResponse below) instead of Fastify's two at info.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    // No forceCloseConnections: close() lets requests in flight finish; event streams are ended
    // by endEventStreamsOnClose instead of cutting every connection.
    ...HARDENED_SERVER_OPTIONS,
    ...(opts.https ? { https: { key: opts.https.key, cert: opts.https.cert, minVersion: 'TLSv1.2' as const } } : {}),
  }) as unknown as FastifyInstance;

  // Input checks first: strict validation (no type coercion in bodies), a JSON parser that refuses
  // invalid UTF-8 and NUL, and the envelope for every error, the router's own included.
  installValidation(app);
  installJsonParser(app);
  installNulGuard(app);
  installErrorHandlers(app);
  endEventStreamsOnClose(app);
  app.addHook('onRequest', (_req, _reply, done) => RequestContext.create(orm.em, done));
  app.addHook('onResponse', async (req, reply) => {
    req.log.debug({ method: req.method, url: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'opsctl manager API', version: opsVersion(), description: 'Every response is {code, message, data, timestamp} (POST /oauth/token answers as RFC 6749 says).' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT or opst_ API token' } } },
      security: [{ bearer: [] }],
    },
  });
  await installAccess(app, jwtSecret(config), services.auth);
  installRequestAudit(app, orm, services.audit);

  const modules = await loadModules();
  await app.register(async (api) => {
    for (const m of modules) await m.routes?.(api, { config, services });
    api.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  }, { prefix: API_PREFIX });
  for (const m of modules) await m.rootRoutes?.(app, { config, services });

  await app.ready();
  return app;
}
