// The request-signing scheme for agentd's HTTP API (DESIGN.md §1): HMAC-SHA256 over
//   METHOD \n PATH-WITH-QUERY \n TIMESTAMP \n NONCE \n SHA256-HEX(BODY)
// sent in X-Ops-* headers. Verifiers allow ±300 s of clock skew, refuse a nonce seen inside the
// window and compare signatures in constant time. Signer and verifier live here, together, so
// hostd, opsctl's serverless mode and agentd can never drift apart.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADERS = {
  keyId: 'x-ops-key-id',
  timestamp: 'x-ops-timestamp',
  nonce: 'x-ops-nonce',
  contentSha256: 'x-ops-content-sha256',
  signature: 'x-ops-signature',
} as const;

export const DEFAULT_WINDOW_SECONDS = 300;

export interface SignInput {
  method: string;
  /** Path with its query string, exactly as sent: `/v1/exec?x=1`. */
  path: string;
  body?: string | Buffer;
  /** For a streamed body (an upload): its sha256, signed in place of hashing `body`. */
  bodyHash?: string;
  keyId: string;
  secret: string | Buffer;
  /** Unix seconds; defaults to now. */
  timestamp?: number;
  nonce?: string;
}

export function sha256Hex(body: string | Buffer | undefined): string {
  return createHash('sha256').update(body ?? '').digest('hex');
}

export function canonicalString(method: string, path: string, timestamp: string, nonce: string, bodyHash: string): string {
  return [method.toUpperCase(), path, timestamp, nonce, bodyHash].join('\n');
}

export function signRequest(input: SignInput): Record<string, string> {
  const timestamp = String(input.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = input.nonce ?? randomBytes(16).toString('hex');
  const bodyHash = input.bodyHash ?? sha256Hex(input.body);
  const signature = createHmac('sha256', input.secret)
    .update(canonicalString(input.method, input.path, timestamp, nonce, bodyHash))
    .digest('hex');
  return {
    [SIGNATURE_HEADERS.keyId]: input.keyId,
    [SIGNATURE_HEADERS.timestamp]: timestamp,
    [SIGNATURE_HEADERS.nonce]: nonce,
    [SIGNATURE_HEADERS.contentSha256]: bodyHash,
    [SIGNATURE_HEADERS.signature]: signature,
  };
}

/** Remembers nonces for as long as their timestamp could still pass the window check. */
export class NonceCache {
  private readonly seen = new Map<string, number>();
  constructor(private readonly ttlMs: number = 2 * DEFAULT_WINDOW_SECONDS * 1000) {}

  /** True when the nonce is new (and records it); false when it was already used. */
  checkAndRemember(nonce: string, nowMs = Date.now()): boolean {
    if (this.seen.size > 1000) this.prune(nowMs);
    const expires = this.seen.get(nonce);
    if (expires !== undefined && expires > nowMs) return false;
    this.seen.set(nonce, nowMs + this.ttlMs);
    return true;
  }

  private prune(nowMs: number): void {
    for (const [nonce, expires] of this.seen) if (expires <= nowMs) this.seen.delete(nonce);
  }

  get size(): number { return this.seen.size; }
}

export interface VerifyInput {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body?: string | Buffer;
  /** The secret for a key id, or undefined when the key is unknown. */
  lookupSecret: (keyId: string) => string | Buffer | undefined;
  nonces: NonceCache;
  /**
   * The body is streamed and not read yet: trust the claimed X-Ops-Content-Sha256 for the
   * signature, and the caller must check the bytes against `claimedBodyHash` as it reads them.
   */
  streamedBody?: boolean;
  windowSeconds?: number;
  nowMs?: number;
}

export type VerifyResult = { ok: true; keyId: string; claimedBodyHash: string } | { ok: false; reason: string };

function header(headers: VerifyInput['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function verifyRequest(input: VerifyInput): VerifyResult {
  const keyId = header(input.headers, SIGNATURE_HEADERS.keyId);
  const timestamp = header(input.headers, SIGNATURE_HEADERS.timestamp);
  const nonce = header(input.headers, SIGNATURE_HEADERS.nonce);
  const bodyHashClaimed = header(input.headers, SIGNATURE_HEADERS.contentSha256);
  const signature = header(input.headers, SIGNATURE_HEADERS.signature);
  if (!keyId || !timestamp || !nonce || !bodyHashClaimed || !signature) {
    return { ok: false, reason: 'request is not signed: missing X-Ops-* signature headers' };
  }
  const secret = input.lookupSecret(keyId);
  if (secret === undefined) return { ok: false, reason: `unknown key id "${keyId}"` };

  const nowMs = input.nowMs ?? Date.now();
  const window = input.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  const ts = Number(timestamp);
  if (!/^\d+$/.test(timestamp) || Math.abs(nowMs / 1000 - ts) > window) {
    return { ok: false, reason: `timestamp outside the ±${window} s window` };
  }
  const bodyHash = input.streamedBody ? bodyHashClaimed : sha256Hex(input.body);
  const expected = createHmac('sha256', secret)
    .update(canonicalString(input.method, input.path, timestamp, nonce, bodyHash))
    .digest();
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'signature does not match the request' };
  }
  // Only a correctly signed request may consume a nonce, so garbage cannot poison the cache.
  if (!input.nonces.checkAndRemember(nonce, nowMs)) return { ok: false, reason: 'nonce already used (replay)' };
  return { ok: true, keyId, claimedBodyHash: bodyHashClaimed };
}
