// Who may talk to agentd: first the client address must be in http.allow (403 / 1003), then the
// request must carry a valid HMAC signature over method, raw path with query and the raw body
// bytes (401 / 1002 with the reason). The body is parsed as JSON only after the signature holds,
// so nothing about an unsigned request is ever interpreted.
import type { Readable } from 'node:stream';
import { ErrorCode, OpsError } from '../../proto/errors.js';
import { verifyRequest, type NonceCache } from '../../proto/signing.js';
import type { AllowList } from '../ip-allow.js';
import type { AgentRequest } from './route.js';

export interface AuthOptions {
  allow: AllowList;
  lookupSecret: (keyId: string) => string | Buffer | undefined;
  nonces: NonceCache;
}

export function checkClientAddress(address: string | undefined, allow: AllowList): void {
  if (!allow.allows(address)) throw new OpsError(ErrorCode.FORBIDDEN, `client address ${address} is not allowed`);
}

/**
 * Verifies the signature over `raw` (the body's bytes, or nothing for a streamed body), then sets
 * the request's body to its parsed JSON (undefined when empty). A streamed body
 * (application/octet-stream, an upload's content) is left unread: its signed sha256 is kept in
 * `signedBodyHash` for the reader to check.
 */
export function authenticateAndParse(request: AgentRequest, raw: Buffer | Readable | undefined, opts: AuthOptions): void {
  const streamed = raw !== undefined && !Buffer.isBuffer(raw);
  const body = Buffer.isBuffer(raw) ? raw : Buffer.alloc(0);
  const result = verifyRequest({
    method: request.method,
    path: request.url,
    headers: request.raw.headers,
    body,
    streamedBody: streamed,
    lookupSecret: opts.lookupSecret,
    nonces: opts.nonces,
  });
  if (!result.ok) throw new OpsError(ErrorCode.UNAUTHENTICATED, result.reason);
  request.signedBy = result.keyId;
  if (streamed) {
    request.signedBodyHash = result.claimedBodyHash;
    request.body = raw;
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
