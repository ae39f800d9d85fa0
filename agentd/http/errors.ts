// Every error agentd's HTTP API returns is the standard envelope with a code from proto/errors.ts.
import { ErrorCode, OpsError, envelope, type Envelope } from '../../proto/errors.js';
import type { Logger } from '../../lib/log.js';
import { ValidationFailed, type AjvError } from './validate.js';

/** An HTTP-level refusal before any route ran (413 too large, 415 wrong media type): 1001 with that status. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'HttpError';
  }
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

export interface RequestInfo { ip?: string; method?: string; url?: string }

/** The status and envelope for an error thrown while serving a request; logs what deserves it. */
export function errorResponse(error: unknown, request: RequestInfo, log: Logger): { status: number; body: Envelope } {
  if (error instanceof OpsError) {
    if (error.code === ErrorCode.UNAUTHENTICATED || error.code === ErrorCode.FORBIDDEN) {
      log.warn({ ...request, reason: error.message }, 'request refused');
    }
    return { status: error.httpStatus, body: envelope(error.details ?? null, error.code, error.message) };
  }
  if (error instanceof ValidationFailed) {
    const { field, message } = describeValidationError(error.part, error.error);
    return { status: 400, body: envelope({ field }, ErrorCode.INVALID_ARGUMENT, message) };
  }
  if (error instanceof HttpError) {
    return { status: error.status, body: envelope(null, ErrorCode.INVALID_ARGUMENT, error.message) };
  }
  log.error({ err: error, ...request }, 'request failed');
  return { status: 500, body: envelope(null, ErrorCode.INTERNAL, 'internal error') };
}
