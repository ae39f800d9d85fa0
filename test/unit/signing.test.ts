import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NonceCache, sha256Hex, signRequest, verifyRequest } from '../../proto/signing.js';

const secret = 'k'.repeat(32);
const lookupSecret = (id: string) => (id === 'hostd' ? secret : undefined);

function verify(headers: Record<string, string>, over: Partial<{ method: string; path: string; body: string; nowMs: number; nonces: NonceCache }> = {}) {
  return verifyRequest({
    method: over.method ?? 'POST', path: over.path ?? '/v1/exec?x=1', body: over.body ?? '{"a":1}',
    headers, lookupSecret, nonces: over.nonces ?? new NonceCache(), nowMs: over.nowMs,
  });
}

const signed = () => signRequest({ method: 'POST', path: '/v1/exec?x=1', body: '{"a":1}', keyId: 'hostd', secret });

test('a correctly signed request verifies', () => {
  assert.equal(verify(signed()), { ok: true, keyId: 'hostd', claimedBodyHash: sha256Hex('{"a":1}') });
});

test('tampered body, path, method or signature is refused', () => {
  const h = signed();
  assert.is(verify(h, { body: '{"a":2}' }).ok, false);
  assert.is(verify(h, { path: '/v1/exec?x=2' }).ok, false);
  assert.is(verify(h, { method: 'PUT' }).ok, false);
  assert.is(verify({ ...h, 'x-ops-signature': h['x-ops-signature'].replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) }).ok, false);
  assert.is(verify({ ...h, 'x-ops-signature': 'abcd' }).ok, false);
});

test('unsigned and unknown-key requests are refused with a reason', () => {
  const r = verify({});
  assert.is(r.ok, false);
  assert.match((r as { reason: string }).reason, /not signed/);
  const u = verify(signRequest({ method: 'POST', path: '/v1/exec?x=1', body: '{"a":1}', keyId: 'other', secret }));
  assert.match((u as { reason: string }).reason, /unknown key/);
});

test('timestamps outside ±300 s are refused, inside are accepted', () => {
  const now = Date.now();
  const stale = signRequest({ method: 'POST', path: '/p', keyId: 'hostd', secret, timestamp: Math.floor(now / 1000) - 301 });
  assert.is(verify(stale, { path: '/p', body: '' }).ok, false);
  const future = signRequest({ method: 'POST', path: '/p', keyId: 'hostd', secret, timestamp: Math.floor(now / 1000) + 301 });
  assert.is(verify(future, { path: '/p', body: '' }).ok, false);
  const skewed = signRequest({ method: 'POST', path: '/p', keyId: 'hostd', secret, timestamp: Math.floor(now / 1000) - 299 });
  assert.is(verify(skewed, { path: '/p', body: '' }).ok, true);
});

test('a replayed nonce is refused; a bad signature does not burn the nonce', () => {
  const nonces = new NonceCache();
  const h = signed();
  assert.is(verify({ ...h, 'x-ops-signature': '00'.repeat(32) }, { nonces }).ok, false);
  assert.is(verify(h, { nonces }).ok, true);
  const again = verify(h, { nonces });
  assert.is(again.ok, false);
  assert.match((again as { reason: string }).reason, /replay/);
});

test.run();
