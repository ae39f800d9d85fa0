// GET /install.sh and GET /bundles/<file> through the real app (inject): what the script is filled
// with on a plain-HTTP manager, that hostile Host headers and names never reach the script or a file
// outside install.bundleDir, and the token response without an install source while the API is
// plain HTTP. The HTTPS side, real curl and the script itself: test/e2e/install-script.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { opsVersion } from '../../lib/version.js';
import { shellQuote } from '../../lib/shell-quote.js';
import { loadManagerConfig } from '../../server/config.js';
import { CA_HASH, makeHarness, type Harness } from './harness.js';

const bundleDir = mkdtempSync(join(tmpdir(), 'ops-bundles-'));
const current = `opsctl-host-${opsVersion()}-linux-x64.tar.gz`;
const content = Buffer.from('not really a tarball, but the manager only hashes and sends it');
let h: Harness;

test.before(async () => {
  writeFileSync(join(bundleDir, current), content);
  writeFileSync(join(bundleDir, `opsctl-host-${opsVersion()}-linux-arm64.tar.gz`), 'arm');
  writeFileSync(join(bundleDir, 'opsctl-host-0.0.1-linux-x64.tar.gz'), 'an older version');
  writeFileSync(join(bundleDir, 'notes.txt'), 'not a bundle');
  h = await makeHarness('sqlite', { config: { 'install.bundleDir': bundleDir } });
});
test.after(async () => {
  await h?.close();
  rmSync(bundleDir, { recursive: true, force: true });
});

const get = (url: string, headers: Record<string, string> = {}) => h.app.inject({ method: 'GET', url, headers });

test('install.sh: public, every value filled in and quoted, the bundles of this version only', async () => {
  const res = await get('/install.sh', { host: 'manager.example:8440' });
  assert.is(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/x-shellscript/);
  const script = res.body;
  assert.not.match(script, /@@[A-Z_]+@@/);
  assert.ok(script.includes('\nMANAGER_URL=http://manager.example:8440\n'), 'the address the host reached');
  assert.ok(script.includes("\nPIN=''\n"), 'plain HTTP: no pin');
  assert.ok(script.includes(`\nCA_HASH=${CA_HASH}\n`));
  assert.ok(script.includes('\nGRPC_ADDRESS=127.0.0.1:8441\n'));
  const sha = createHash('sha256').update(content).digest('hex');
  assert.ok(script.includes(`\nBUNDLES='linux-arm64 ${createHash('sha256').update('arm').digest('hex')} opsctl-host-${opsVersion()}-linux-arm64.tar.gz\nlinux-x64 ${sha} ${current}'\n`), script.slice(script.indexOf('BUNDLES=')));
});

test('install.sh: a Host header a shell would read falls back to the configured address', async () => {
  for (const host of ["x';reboot;'", 'a b', 'x$(id)', '`id`']) {
    const script = (await get('/install.sh', { host })).body;
    assert.ok(script.includes('\nMANAGER_URL=http://127.0.0.1:'), host);
    assert.not.ok(script.includes('reboot') || script.includes('$(id)') || script.includes('`id`'), host);
  }
});

test('bundles: the file itself; any other name is 404 naming what there is', async () => {
  const ok = await get(`/bundles/${current}`);
  assert.is(ok.statusCode, 200);
  assert.ok(ok.rawPayload.equals(content));
  assert.is(ok.headers['content-type'], 'application/gzip');
  for (const name of ['notes.txt', 'opsctl-host-0.0.1-linux-x64.tar.gz', '..%2Fnotes.txt', '..%2F..%2F..%2Fetc%2Fpasswd', `..%2F${current}`]) {
    const res = await get(`/bundles/${name}`);
    assert.is(res.statusCode, 404, name);
    assert.match(res.body, /^no host bundle named ".*"; this manager has: opsctl-host-.*-linux-arm64\.tar\.gz, opsctl-host-.*-linux-x64\.tar\.gz\n$/, name);
  }
});

test('a path that leaves /bundles is no route of ours: refused like any unknown path, never a file', async () => {
  for (const path of ['/bundles/%2e%2e', '/bundles/../package.json', '/bundles/a/b']) {
    const res = await get(path);
    // `/bundles/%2e%2e` resolves to `/`: the web UI's page there (when built), never a file.
    if (res.statusCode === 200 && /^<!doctype html>/i.test(res.body)) continue;
    assert.ok(res.statusCode === 401 || res.statusCode === 404, `${path}: ${res.statusCode}`);
    assert.match(res.body, /^\{"code":100[24],/, path);
  }
});

test('a plain-HTTP manager gives tokens no install source (opsctl prints the hostd command only)', async () => {
  const res = await h.api<{ install?: unknown }>('POST', '/enrollment-tokens', {});
  assert.is(res.status, 201);
  assert.is(res.body.data.install, undefined);
});

test('config install.url: https://HOST[:PORT] only, since it goes into the command hosts run', () => {
  const load = (url: string) => () => loadManagerConfig({ env: {}, flags: { 'install.url': url } });
  for (const bad of ['http://m.example:8440', 'https://m.example/path', "https://m.example'$(id)'", 'https://m.example:8440/?x=1', 'not a url']) {
    assert.throws(load(bad), /install\.url must be https:\/\/HOST\[:PORT\]/, bad);
  }
  for (const good of ['https://m.example:8440', 'https://10.0.0.2', 'https://[::1]:8440/']) assert.not.throws(load(good), good);
});

test('shellQuote: plain words stay, anything else is one single-quoted word', () => {
  assert.is(shellQuote('sha256//AbC+/='), 'sha256//AbC+/=');
  assert.is(shellQuote(''), "''");
  assert.is(shellQuote("it's $(x)\n"), "'it'\\''s $(x)\n'");
});

test.run();
