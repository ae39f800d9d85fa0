// The manager's HTTP app, built apart from listen() so tests drive it with app.inject().
import fastifySwagger from '@fastify/swagger';
import { RequestContext } from '@mikro-orm/core';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from '../lib/log.js';
import { opsVersion } from '../lib/version.js';
import { API_PREFIX } from '../proto/rest.js';
import type { ManagerConfig } from './config.js';
import type { Orm } from './db/orm.js';
import { installAuth } from './http/auth.js';
import { installErrorHandlers } from './http/errors.js';
import { endEventStreamsOnClose } from './http/sse.js';
import { enrollmentTokenRoutes } from './modules/enrollment-tokens/routes.js';
import { healthRoutes } from './modules/health/routes.js';
import { nodeRoutes } from './modules/nodes/routes.js';
import { taskRoutes } from './modules/tasks/routes.js';
import { userRoutes } from './modules/users/routes.js';
import type { ManagerServices } from './services.js';

export const BODY_LIMIT_BYTES = 2 * 1024 * 1024;
export const JWT_SECRET_FILE = 'jwt.secret';

export interface BuildAppOptions {
  config: ManagerConfig;
  orm: Orm;
  log: Logger;
  services: ManagerServices;
}

/** auth.jwtSecret, or the secret generated once and kept in <dataDir>/jwt.secret (mode 0600). */
export function jwtSecret(config: ManagerConfig): string {
  if (config.auth.jwtSecret) return config.auth.jwtSecret;
  const file = join(config.dataDir, JWT_SECRET_FILE);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
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
    ajv: {
      customOptions: {
        // Unknown fields are refused (not silently dropped); defaults come from config in the services.
        removeAdditional: false,
        useDefaults: false,
        coerceTypes: 'array',
        allErrors: false,
      },
    },
  }) as unknown as FastifyInstance;

  installErrorHandlers(app);
  endEventStreamsOnClose(app);
  app.addHook('onRequest', (_req, _reply, done) => RequestContext.create(orm.em, done));
  app.addHook('onResponse', async (req, reply) => {
    req.log.debug({ method: req.method, url: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'opsctl manager API', version: opsVersion(), description: 'Every response is {code, message, data, timestamp}.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
  });
  await installAuth(app, jwtSecret(config));

  await app.register(async (api) => {
    healthRoutes(api);
    userRoutes(api, { users: services.users, tokenTtl: config.auth.tokenTtl });
    nodeRoutes(api, { nodes: services.nodes });
    enrollmentTokenRoutes(api, { tokens: services.tokens });
    taskRoutes(api, { tasks: services.tasks });
    api.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  }, { prefix: API_PREFIX });

  await app.ready();
  return app;
}
