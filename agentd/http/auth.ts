// Who may talk to agentd: first the client address must be in http.allow (403 / 1003), then the
// request must carry a valid HMAC signature over method, raw path with query and the raw body
// bytes (401 / 1002 with the reason). The body is parsed as JSON only after the signature holds,
// so nothing about an unsigned request is ever interpreted.
import type { FastifyRequest } from 'fastify';
import { ErrorCode, OpsError } from '../../proto/errors.js';
import { verifyRequest, type NonceCache } from '../../proto/signing.js';
import type { AllowList } from '../ip-allow.js';

export interface AuthOptions {
  allow: AllowList;
  lookupSecret: (keyId: string) => string | Buffer | undefined;
  nonces: NonceCache;
}

declare module 'fastify' {
  interface FastifyRequest {
    signedBy?: string;
    /** X-Ops-Content-Sha256 of a streamed body (an upload), which its reader must check. */
    signedBodyHash?: string;
  }
}

export function checkClientAddress(request: FastifyRequest, allow: AllowList): void {
  const address = request.socket.remoteAddress ?? request.ip;
  if (!allow.allows(address)) throw new OpsError(ErrorCode.FORBIDDEN, `client address ${address} is not allowed`);
}

function isStreamedBody(body: unknown): boolean {
  return typeof body === 'object' && body !== null && typeof (body as NodeJS.ReadableStream).pipe === 'function';
}

export function rawBody(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}

/**
 * Verifies the signature, then replaces the raw body with its parsed JSON (undefined when empty).
 * A streamed body (application/octet-stream, an upload's content) is left unread: its signed
 * sha256 is kept in `signedBodyHash` for the reader to check.
 */
export function authenticateAndParse(request: FastifyRequest, opts: AuthOptions): void {
  const streamed = isStreamedBody(request.body);
  const body = streamed ? Buffer.alloc(0) : rawBody(request);
  const result = verifyRequest({
    method: request.method,
    path: request.raw.url ?? request.url,
    headers: request.headers,
    body,
    streamedBody: streamed,
    lookupSecret: opts.lookupSecret,
    nonces: opts.nonces,
  });
  if (!result.ok) throw new OpsError(ErrorCode.UNAUTHENTICATED, result.reason);
  request.signedBy = result.keyId;
  if (streamed) {
    request.signedBodyHash = result.claimedBodyHash;
    return;
  }
  if (body.length === 0) {
    request.body = undefined;
    return;
  }
  try {
    request.body = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new OpsError(ErrorCode.INVALID_ARGUMENT, `body is not valid JSON: ${(err as Error).message}`);
  }
}
