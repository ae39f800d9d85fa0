// Every error agentd's HTTP API returns is the standard envelope with a code from proto/errors.ts.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, OpsError, envelope, type ErrorCodeValue } from '../../proto/errors.js';
import type { Logger } from '../../lib/log.js';

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** "body.env.FOO must be string", "body.runId is required", "body.shell is not allowed". */
export function describeValidationError(context: string, err: AjvError): { field: string; message: string } {
  const path = [context, ...err.instancePath.split('/').filter(Boolean)].join('.');
  if (err.keyword === 'required') {
    const field = `${path}.${String(err.params.missingProperty)}`;
    return { field, message: `${field} is required` };
  }
  if (err.keyword === 'additionalProperties') {
    const field = `${path}.${String(err.params.additionalProperty)}`;
    return { field, message: `${field} is not allowed` };
  }
  return { field: path, message: `${path} ${err.message ?? 'is invalid'}` };
}

function send(reply: FastifyReply, status: number, code: ErrorCodeValue, message: string, data: unknown = null): FastifyReply {
  return reply.status(status).type('application/json').send(envelope(data, code, message));
}

export function installErrorHandler(app: FastifyInstance, log: Logger): void {
  app.setErrorHandler((error: Error, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof OpsError) {
      const err = error;
      if (err.code === ErrorCode.UNAUTHENTICATED || err.code === ErrorCode.FORBIDDEN) {
        log.warn({ ip: request.ip, method: request.method, url: request.url, reason: err.message }, 'request refused');
      }
      return send(reply, err.httpStatus, err.code, err.message, err.details ?? null);
    }
    const err = error as FastifyError & { validation?: AjvError[]; validationContext?: string };
    if (err.validation && err.validation.length > 0) {
      const { field, message } = describeValidationError(err.validationContext ?? 'body', err.validation[0]);
      return send(reply, 400, ErrorCode.INVALID_ARGUMENT, message, { field });
    }
    if (err.statusCode === 413) {
      return send(reply, 413, ErrorCode.INVALID_ARGUMENT, `request body is too large (limit ${app.initialConfig.bodyLimit} bytes)`);
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return send(reply, err.statusCode, ErrorCode.INVALID_ARGUMENT, err.message);
    }
    log.error({ err, method: request.method, url: request.url }, 'request failed');
    return send(reply, 500, ErrorCode.INTERNAL, 'internal error');
  });
}
