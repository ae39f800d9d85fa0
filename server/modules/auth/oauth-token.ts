// POST /oauth/token: the OAuth2 client-credentials grant (RFC 6749 §4.4). The client authenticates
// with HTTP Basic or with client_id/client_secret in the form (§2.3.1); the answer and every error
// are in the RFC's shapes (§5.1, §5.2) — the one route that does not answer the envelope.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import { OAuthError, OAuthTokenForm, OAuthTokenResponse } from '../../../proto/rest/auth.js';
import { setAuditTarget } from '../../db/request-transaction.js';
import type { OAuthClientsService } from '../oauth-clients/service.js';
import type { LoginLimiter } from './login-limiter.js';
import { rateLimited } from './routes.js';

class OAuthFailure extends Error {
  /** Read by the audit hook to record the failure's code. */
  readonly statusCode: number;
  constructor(readonly status: number, readonly error: string, description: string) {
    super(description);
    this.statusCode = status;
  }
}

export interface OAuthTokenOptions {
  clients: OAuthClientsService;
  limiter: LoginLimiter;
  tokenTtlSeconds: number;
}

export async function oauthTokenRoute(app: FastifyInstance, opts: OAuthTokenOptions): Promise<void> {
  // Form bodies are accepted here only: an encapsulated scope keeps every other route JSON-only.
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 8192 }, (_req, body, done) => {
      const form: Record<string, string> = {};
      for (const [key, value] of new URLSearchParams(body as string)) {
        // §3.2: parameters must not be repeated.
        if (Object.hasOwn(form, key)) return done(new OAuthFailure(400, 'invalid_request', `parameter ${key} is repeated`), undefined);
        form[key] = value;
      }
      done(null, form);
    });

    scope.post<{ Body: OAuthTokenForm }>('/oauth/token', {
      config: { public: true, audit: 'auth.token' },
      schema: {
        tags: ['auth'], summary: 'OAuth2 client-credentials grant: a short-lived bearer token for a client',
        description: 'Form-encoded (grant_type=client_credentials); client credentials by HTTP Basic or in the form. Answers and errors follow RFC 6749 §5.',
        consumes: ['application/x-www-form-urlencoded'], body: OAuthTokenForm,
        response: { 200: OAuthTokenResponse, 400: OAuthError, 401: OAuthError, 429: OAuthError },
      },
      errorHandler: (err, _req, reply) => sendOAuthError(reply, err),
      preHandler: async (req, reply) => {
        // §4.4.2: the request is form-encoded; a JSON body is not this endpoint's format.
        if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
          throw new OAuthFailure(400, 'invalid_request', 'send application/x-www-form-urlencoded (RFC 6749 §4.4.2)');
        }
        const { id } = clientCredentials(req);
        rateLimited(reply, () => opts.limiter.check(`client:${id}`, req.ip));
      },
    }, async (req, reply) => {
      if (req.body.grant_type !== 'client_credentials') {
        throw new OAuthFailure(400, 'unsupported_grant_type', 'only grant_type=client_credentials is supported');
      }
      const { id, secret, basic } = clientCredentials(req);
      req.auditActor = { kind: 'client', name: id };
      setAuditTarget(id);
      const client = await opts.clients.verify(id, secret);
      if (!client) {
        opts.limiter.fail(`client:${id}`, req.ip);
        if (basic) reply.header('www-authenticate', 'Basic realm="opsctl"');
        throw new OAuthFailure(401, 'invalid_client', 'unknown client or wrong secret');
      }
      req.auditActor = { kind: 'client', name: client.name, id: client.id };
      const accessToken = app.jwt.sign({ sub: client.id, typ: 'client' }, { expiresIn: opts.tokenTtlSeconds });
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      return { access_token: accessToken, token_type: 'Bearer' as const, expires_in: opts.tokenTtlSeconds };
    });
  });
}

/** HTTP Basic (id and secret form-urlencoded, §2.3.1) or the form's client_id/client_secret; not both. */
function clientCredentials(req: FastifyRequest): { id: string; secret: string; basic: boolean } {
  const form = (req.body ?? {}) as Partial<OAuthTokenForm>;
  const header = req.headers.authorization;
  if (header) {
    const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header);
    const decoded = m ? Buffer.from(m[1], 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new OAuthFailure(401, 'invalid_client', 'malformed HTTP Basic credentials');
    if (form.client_id !== undefined || form.client_secret !== undefined) {
      throw new OAuthFailure(400, 'invalid_request', 'send the client credentials either with HTTP Basic or in the form, not both');
    }
    try {
      return { id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')), basic: true };
    } catch {
      throw new OAuthFailure(401, 'invalid_client', 'malformed HTTP Basic credentials');
    }
  }
  if (!form.client_id || !form.client_secret) throw new OAuthFailure(401, 'invalid_client', 'client authentication required (HTTP Basic or client_id and client_secret)');
  return { id: form.client_id, secret: form.client_secret, basic: false };
}

function sendOAuthError(reply: FastifyReply, err: FastifyError | Error): FastifyReply {
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  if (err instanceof OAuthFailure) return reply.status(err.status).send({ error: err.error, error_description: err.message });
  if (err instanceof OpsError && err.code === ErrorCode.RATE_LIMITED) return reply.status(429).send({ error: 'slow_down', error_description: err.message });
  const e = err as FastifyError;
  if (e.validation || (e.statusCode && e.statusCode < 500)) {
    return reply.status(400).send({ error: 'invalid_request', error_description: e.message });
  }
  reply.log.error({ err }, 'oauth token request failed');
  return reply.status(500).send({ error: 'server_error', error_description: 'internal error' });
}
