// hostd's certificate requests (hostd/csr.ts, Node's crypto alone) as the manager and OpenSSL read
// them: the signature verifies, the key is the host's (its fingerprint as hostd logs it), and
// OpenSSL reads the subject as the node name.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { csrFor } from '../../hostd/csr.js';
import { createKey } from '../../hostd/enroll.js';
import { keyFingerprint } from '../../proto/key-fingerprint.js';
import { parseCsr } from '../../server/hostlink/x509.js';

test('the manager accepts the request: signature and key', () => {
  const keyPem = createKey();
  assert.is(parseCsr(csrFor(keyPem, 'web-01.example.com')).keyFingerprint, keyFingerprint(keyPem));
});

test('OpenSSL verifies it and reads the name, long names included', () => {
  const keyPem = createKey();
  const name = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}`; // lengths past 127 bytes take long-form DER lengths
  const out = execFileSync('openssl', ['req', '-verify', '-noout', '-subject'], { input: csrFor(keyPem, name), encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  assert.match(out, new RegExp(`CN ?= ?${name}`));
});

test('a key that is not a private key PEM is refused, not turned into a request', () => {
  assert.throws(() => csrFor('not a key', 'x'));
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  assert.throws(() => csrFor(publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'x'));
});

test.run();
