// The host bundle's manifest, both sides (proto/host-bundle.ts): what buildManifest writes,
// verifyBundleDir accepts; every way an unpacked bundle can be wrong is refused, naming the file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BundleError, buildManifest, bundleFileName, bundlePathProblem, MANIFEST_FILE, parseManifest, verifyBundleDir, type BundleManifest } from '../../proto/host-bundle.js';

const dirs: string[] = [];
test.after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

/** A small valid bundle folder: two files and their manifest. */
function makeBundle(): { dir: string; manifest: BundleManifest } {
  const dir = mkdtempSync(join(tmpdir(), 'ops-bundle-unit-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'hostd.mjs'), 'console.log("hostd")\n');
  mkdirSync(join(dir, 'proto', 'v1'), { recursive: true });
  writeFileSync(join(dir, 'proto', 'v1', 'x.proto'), 'syntax = "proto3";\n');
  const manifest = buildManifest(dir, ['hostd.mjs', 'proto/v1/x.proto'], { version: '1.2.3', platform: 'linux', arch: 'x64', node: '>=20', createdAt: '2026-01-01T00:00:00.000Z' });
  writeManifest(dir, manifest);
  return { dir, manifest };
}

const writeManifest = (dir: string, m: unknown) => writeFileSync(join(dir, MANIFEST_FILE), typeof m === 'string' ? m : JSON.stringify(m));

function refused(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, BundleError);
    assert.match((err as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a BundleError matching ${pattern}`);
}

test('the file name says version, platform and arch', () => {
  assert.is(bundleFileName('0.1.0', 'linux', 'arm64'), 'opsctl-host-0.1.0-linux-arm64.tar.gz');
});

test('a bundle as written verifies, with sizes and SHA-256 of each file', () => {
  const { dir, manifest } = makeBundle();
  assert.equal(verifyBundleDir(dir), manifest);
  assert.is(manifest.format, 1);
  assert.is(manifest.files[0].size, 21);
  assert.is(manifest.files[0].sha256, createHash('sha256').update('console.log("hostd")\n').digest('hex'));
});

test('a changed file is refused by its hash, a longer one by its size', () => {
  const { dir, manifest } = makeBundle();
  writeFileSync(join(dir, 'hostd.mjs'), 'console.log("HOSTD")\n'); // same length, other bytes
  refused(() => verifyBundleDir(dir), /hostd\.mjs does not match its SHA-256/);
  appendFileSync(join(dir, 'hostd.mjs'), 'more');
  refused(() => verifyBundleDir(dir), new RegExp(`hostd\\.mjs is ${manifest.files[0].size + 4} bytes`));
});

test('a missing file, an extra file and a symlink are refused', () => {
  const a = makeBundle();
  rmSync(join(a.dir, 'proto', 'v1', 'x.proto'));
  refused(() => verifyBundleDir(a.dir), /proto\/v1\/x\.proto is listed .* but missing/);
  const b = makeBundle();
  writeFileSync(join(b.dir, 'evil.mjs'), '');
  refused(() => verifyBundleDir(b.dir), /not listed in manifest\.json: evil\.mjs/);
  const c = makeBundle();
  rmSync(join(c.dir, 'hostd.mjs'));
  symlinkSync('/etc/hostname', join(c.dir, 'hostd.mjs'));
  refused(() => verifyBundleDir(c.dir), /hostd\.mjs is not a regular file/);
});

test('paths that leave the bundle are refused when writing and when reading', () => {
  for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'a//b', './x', 'a\\b', '', MANIFEST_FILE]) {
    assert.ok(bundlePathProblem(bad), bad);
  }
  assert.is(bundlePathProblem('proto/hostlink/v1/hostlink.proto'), undefined);
  const { dir, manifest } = makeBundle();
  refused(() => buildManifest(dir, ['../outside'], manifest), /"\.\.\/outside"/);
  writeManifest(dir, { ...manifest, files: [{ ...manifest.files[0], path: '../hostd.mjs' }] });
  refused(() => verifyBundleDir(dir), /file path "\.\.\/hostd\.mjs"/);
});

test('a malformed manifest is refused, naming the field', () => {
  const { manifest } = makeBundle();
  refused(() => parseManifest('{not json'), /not JSON/);
  refused(() => parseManifest('null'), /must hold an object/);
  refused(() => parseManifest(JSON.stringify({ ...manifest, format: 2 })), /format 2 is not 1/);
  refused(() => parseManifest(JSON.stringify({ ...manifest, version: '' })), /version must be a non-empty string/);
  refused(() => parseManifest(JSON.stringify({ ...manifest, files: [] })), /files must be a non-empty list/);
  refused(() => parseManifest(JSON.stringify({ ...manifest, files: [manifest.files[0], manifest.files[0]] })), /lists hostd\.mjs twice/);
  refused(() => parseManifest(JSON.stringify({ ...manifest, files: [{ ...manifest.files[0], size: -1 }] })), /size of hostd\.mjs/);
  refused(() => parseManifest(JSON.stringify({ ...manifest, files: [{ ...manifest.files[0], sha256: 'ABC' }] })), /sha256 of hostd\.mjs/);
  const dir = mkdtempSync(join(tmpdir(), 'ops-bundle-unit-'));
  dirs.push(dir);
  refused(() => verifyBundleDir(dir), /reading manifest\.json/);
});

test.run();
