// The one error handler: every failure leaves as the standard envelope with a code from
// proto/errors.ts; internals of unexpected errors are logged, never sent.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { envelope, ErrorCode, OpsError, type ErrorCodeValue } from '../../proto/errors.js';

interface ValidationIssue { keyword: string; instancePath: string; message?: string; params?: Record<string, unknown> }

/** "body/script must NOT have fewer than 1 characters"; names the unknown property too. */
export function validationMessage(err: FastifyError): string {
  const issue = (err.validation as ValidationIssue[] | undefined)?.[0];
  if (!issue) return err.message;
  const where = `${err.validationContext ?? 'request'}${issue.instancePath}`;
  if (issue.keyword === 'additionalProperties' && issue.params?.additionalProperty !== undefined) {
    return `${where} must NOT have additional property "${String(issue.params.additionalProperty)}"`;
  }
  return `${where} ${issue.message ?? 'is invalid'}`;
}

/** Error codes of a database that cannot be reached (the drivers' and the OS's), not of a bad query. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE', 'PROTOCOL_CONNECTION_LOST', 'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN']);

/** The database is away (refused, cut, or no pooled connection within the timeout): a 503, not a bug. */
export function databaseUnreachable(err: unknown): boolean {
  for (let e = err as { name?: string; code?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.name === 'KnexTimeoutError' || e.name === 'ConnectionException') return true;
    if (typeof e.code === 'string' && UNREACHABLE_CODES.has(e.code)) return true;
  }
  return false;
}

function send(reply: FastifyReply, status: number, code: ErrorCodeValue, message: string, data: unknown = null) {
  return reply.status(status).send(envelope(data, code, message));
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const thrown: unknown = err;
    if (thrown instanceof OpsError) return send(reply, thrown.httpStatus, thrown.code, thrown.message, thrown.details ?? null);
    if (err.validation) return send(reply, 400, ErrorCode.INVALID_ARGUMENT, validationMessage(err));
    if (typeof err.code === 'string' && err.code.startsWith('FST_JWT')) {
      return send(reply, 401, ErrorCode.UNAUTHENTICATED, 'missing or invalid access token');
    }
    // Fastify's own client errors: malformed JSON, body too large, wrong content type.
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) return send(reply, status, ErrorCode.INVALID_ARGUMENT, err.message);
    if (databaseUnreachable(err)) {
      req.log.warn({ err: err.message, method: req.method, url: req.url }, 'database unreachable');
      return send(reply, 503, ErrorCode.UNAVAILABLE, 'the database cannot be reached; try again shortly');
    }
    req.log.error({ err, method: req.method, url: req.url }, 'request failed');
    return send(reply, 500, ErrorCode.INTERNAL, 'internal error');
  });
  app.setNotFoundHandler((req, reply) =>
    send(reply, 404, ErrorCode.NOT_FOUND, `no route ${req.method} ${req.url.split('?')[0]}`));
}
