// proto/release.ts, both sides: a key file round trip, a signature that verifies only against the
// key that made it, any change to the signed text refused, expiry and platform checks, and the
// version order (pre-releases before their release, numeric identifiers by value).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, OpsError } from '../../proto/errors.js';
import {
  checkInstallable, compareVersions, generateReleaseKey, parseReleaseKeyFile, parseReleaseManifest, publicKeyId, signRelease, verifyRelease, type ReleaseManifest,
} from '../../proto/release.js';

const manifest = (over: Partial<ReleaseManifest> = {}): ReleaseManifest => ({
  format: 1, component: 'host', version: '1.4.0', platform: 'linux', arch: 'x64', file: 'opsctl-host-1.4.0-linux-x64.tar.gz',
  size: 1234, sha256: 'a'.repeat(64), createdAt: '2026-11-01T00:00:00.000Z', expiresAt: '2099-01-01T00:00:00.000Z', ...over,
});

function code(fn: () => unknown): number | undefined {
  try { fn(); } catch (err) { return err instanceof OpsError ? err.code : -1; }
  return undefined;
}

test('a key file round-trips, and a mismatched public key is refused', () => {
  const key = generateReleaseKey();
  assert.match(key.publicKey, /^ed25519:[A-Za-z0-9+/]{43}=$/);
  const parsed = parseReleaseKeyFile(JSON.stringify(key));
  assert.is(parsed.publicKey, key.publicKey);
  const other = generateReleaseKey();
  assert.is(code(() => parseReleaseKeyFile(JSON.stringify({ ...key, publicKey: other.publicKey }))), ErrorCode.INVALID_ARGUMENT);
  assert.is(code(() => parseReleaseKeyFile('not json')), ErrorCode.INVALID_ARGUMENT);
  assert.is(code(() => parseReleaseKeyFile(JSON.stringify({ ...key, secretKey: 'c2hvcnQ=' }))), ErrorCode.INVALID_ARGUMENT);
  assert.is(publicKeyId(key.publicKey).length, 16);
});

test('a signed release verifies against its key, and against no other', () => {
  const key = generateReleaseKey();
  const signed = signRelease(manifest(), key);
  assert.equal(verifyRelease(signed, [generateReleaseKey().publicKey, key.publicKey]), manifest());
  assert.is(signed.keyId, publicKeyId(key.publicKey));
  assert.is(code(() => verifyRelease(signed, [generateReleaseKey().publicKey])), ErrorCode.RELEASE_KEY_UNTRUSTED);
  assert.is(code(() => verifyRelease(signed, [])), ErrorCode.RELEASE_KEY_UNTRUSTED);
  assert.is(code(() => verifyRelease({ ...signed, signature: 'AAAA' }, [key.publicKey])), ErrorCode.RELEASE_SIGNATURE_INVALID);
});

test('any change to the signed text is refused, even one that keeps the JSON equal', () => {
  const key = generateReleaseKey();
  const signed = signRelease(manifest(), key);
  const tampered = { ...signed, manifest: signed.manifest.replace('"size":1234', '"size":1235') };
  assert.is(code(() => verifyRelease(tampered, [key.publicKey])), ErrorCode.RELEASE_KEY_UNTRUSTED);
  const reformatted = { ...signed, manifest: JSON.stringify(JSON.parse(signed.manifest), null, 1) };
  assert.is(code(() => verifyRelease(reformatted, [key.publicKey])), ErrorCode.RELEASE_KEY_UNTRUSTED);
});

test('a signed but malformed manifest is refused: a path for a file name, a bad version, a bad hash', () => {
  const key = generateReleaseKey();
  for (const bad of [{ file: '../x.tar.gz' }, { file: 'a/b.tar.gz' }, { version: '1.4' }, { sha256: 'xyz' }, { size: -1 }]) {
    const signed = signRelease(manifest(bad as Partial<ReleaseManifest>), key);
    assert.is(code(() => verifyRelease(signed, [key.publicKey])), ErrorCode.INVALID_ARGUMENT, JSON.stringify(bad));
  }
  assert.is(code(() => parseReleaseManifest('[]')), ErrorCode.INVALID_ARGUMENT);
});

test('checkInstallable: platform, expiry, and only a newer version', () => {
  const ctx = { platform: 'linux', arch: 'x64', runningVersion: '1.3.9' };
  assert.is(code(() => checkInstallable(manifest(), ctx)), undefined);
  assert.is(code(() => checkInstallable(manifest(), { ...ctx, arch: 'arm64' })), ErrorCode.RELEASE_INCOMPATIBLE);
  assert.is(code(() => checkInstallable(manifest({ expiresAt: '2020-01-01T00:00:00Z' }), ctx)), ErrorCode.RELEASE_EXPIRED);
  assert.is(code(() => checkInstallable(manifest(), { ...ctx, now: new Date('2100-01-01') })), ErrorCode.RELEASE_EXPIRED);
  assert.is(code(() => checkInstallable(manifest(), { ...ctx, runningVersion: '1.4.0' })), ErrorCode.RELEASE_NOT_NEWER);
  assert.is(code(() => checkInstallable(manifest(), { ...ctx, runningVersion: '1.10.0' })), ErrorCode.RELEASE_NOT_NEWER);
  assert.is(code(() => checkInstallable(manifest({ version: '1.4.0' }), { ...ctx, runningVersion: '1.4.0-rc.2' })), undefined);
  assert.is(code(() => checkInstallable(manifest(), { platform: 'linux', arch: 'x64' })), undefined, 'a first install has no running version');
});

test('version order: numbers by value, pre-releases before their release', () => {
  const sorted = ['0.9.9', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.2.0', '1.10.0', '2.0.0'];
  for (let i = 0; i < sorted.length; i++) {
    for (let j = 0; j < sorted.length; j++) {
      assert.is(Math.sign(compareVersions(sorted[i], sorted[j])), Math.sign(i - j), `${sorted[i]} vs ${sorted[j]}`);
    }
  }
  assert.is(code(() => compareVersions('1.0', '1.0.0')), ErrorCode.INVALID_ARGUMENT);
});

test.run();
