// hostd's enrollment and command line, as a real process against an in-process gateway.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { startGateway, type TestGateway } from '../hostlink/helpers.js';
import { ManagerPki } from '../../server/hostlink/pki.js';
import { client, enroll } from '../hostlink/helpers.js';
import { createKeyAndCsr } from '../../hostd/enroll.js';
import { keyFingerprint } from '../../proto/key-fingerprint.js';
import { killAllUnder, runHostd, startHostd, waitUntil } from './helpers.js';

let gw: TestGateway;
const root = mkdtempSync(join(tmpdir(), 'ops-hostd-enroll-'));
let n = 0;
const freshDir = () => join(root, `h${++n}`);

test.before(async () => { gw = await startGateway(); });
test.after(async () => {
  await killAllUnder(root);
  await gw.close();
  rmSync(root, { recursive: true, force: true });
});

const base = (dir: string) => ['--manager', gw.address, '--data-dir', dir, '--agent-listen', '127.0.0.1:1', '--log-level', 'warn'];

test('--help and --version exit 0; an unknown flag is a usage error (2)', async () => {
  const help = await runHostd(['--help']);
  assert.is(help.code, 0);
  assert.match(help.stdout, /--ca-hash SHA256HEX/);
  const version = await runHostd(['--version']);
  assert.is(version.code, 0);
  assert.match(version.stdout, /^hostd \d+\.\d+\.\d+/);
  const bad = await runHostd(['--bogus']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /bogus/);
  const badValue = await runHostd(['--agent-listen', 'nowhere']);
  assert.is(badValue.code, 2);
  assert.match(badValue.stderr, /agent\.listen must be HOST:PORT/);
  const badLevel = await runHostd(['--log-level', 'loud']);
  assert.is(badLevel.code, 2);
  assert.is(badLevel.stderr, 'hostd: invalid log level "loud": use one of fatal, error, warn, info, debug, trace, silent\n');
});

test('not enrolled and no token: exit 1 with "not enrolled: pass --token"', async () => {
  const r = await runHostd(base(freshDir()));
  assert.is(r.code, 1);
  assert.match(r.stderr, /not enrolled: pass --token/);
});

test('refusals print the manager\'s message and exit 1: expired, used, unknown token', async () => {
  gw.backend.addToken('expired-tok', 1, -1000);
  const expired = await runHostd([...base(freshDir()), '--ca-hash', gw.gateway.caHash(), '--token', 'expired-tok', '--name', 'e1']);
  assert.is(expired.code, 1);
  assert.match(expired.stderr, /enrollment refused: enrollment token expired/);

  const unknown = await runHostd([...base(freshDir()), '--ca-hash', gw.gateway.caHash(), '--name', 'e2'], { OPS_ENROLL_TOKEN: 'who-knows' });
  assert.is(unknown.code, 1);
  assert.match(unknown.stderr, /enrollment refused: unknown enrollment token/);
  assert.not.match(unknown.stdout + unknown.stderr, /who-knows/, 'the token is never logged');
});

test('a wrong --ca-hash is refused before anything is sent', async () => {
  gw.backend.addToken('hash-tok', 1);
  const r = await runHostd([...base(freshDir()), '--ca-hash', 'ab'.repeat(32), '--token', 'hash-tok', '--name', 'e3']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /no CA certificate with SHA-256 abab/);
  assert.is(gw.backend.tokens.get('hash-tok')!.uses, 1, 'the token was not spent');
  const malformed = await runHostd([...base(freshDir()), '--ca-hash', 'xyz', '--token', 'hash-tok']);
  assert.is(malformed.code, 2);
  assert.match(malformed.stderr, /manager\.caHash must be 64 hex digits/);
});

test('no trust anchor at all: refused with a hint', async () => {
  gw.backend.addToken('trust-tok', 1);
  const r = await runHostd([...base(freshDir()), '--token', 'trust-tok']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /pass --ca-hash/);
});

test('--ca-file from another CA: the TLS handshake fails, nothing is enrolled', async () => {
  const other = ManagerPki.loadOrCreate({ pkiDir: join(root, 'other-ca'), advertiseHost: '' });
  const caFile = join(root, 'other-ca.pem');
  writeFileSync(caFile, other.caCertPem);
  gw.backend.addToken('file-tok', 1);
  const r = await runHostd([...base(freshDir()), '--ca-file', caFile, '--token', 'file-tok', '--name', 'e4']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /cannot reach the manager|enrollment failed/);
  assert.is(gw.backend.tokens.get('file-tok')!.uses, 1);
  const mismatch = await runHostd([...base(freshDir()), '--ca-file', caFile, '--ca-hash', gw.gateway.caHash(), '--token', 'file-tok']);
  assert.is(mismatch.code, 1);
  assert.match(mismatch.stderr, /does not match --ca-hash/);
  const missing = await runHostd([...base(freshDir()), '--ca-file', join(root, 'nope.pem'), '--token', 'file-tok']);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /reading the CA file/);
});

test('a good token with --ca-file enrolls and saves the identity (key 0600)', async () => {
  const dir = freshDir();
  const caFile = join(root, 'ca.pem');
  writeFileSync(caFile, gw.gateway.caPem());
  gw.backend.addToken('good-tok', 1);
  // The manager is reachable but hostd is stopped right after enrolling by a bad agent listen port:
  // enrollment itself must already be complete on disk.
  const run = runHostd([...base(dir), '--ca-file', caFile, '--token', 'good-tok', '--name', 'e5'], { OPS_AGENT_COMMAND: 'true' }, 8_000);
  await waitForFile(join(dir, 'node.json'));
  const meta = JSON.parse(readFileSync(join(dir, 'node.json'), 'utf8')) as { nodeId: string; nodeName: string; managerAddress: string };
  assert.is(meta.nodeName, 'e5');
  assert.is(meta.managerAddress, gw.address);
  assert.is(statSync(join(dir, 'node.key')).mode & 0o777, 0o600);
  const cert = new X509Certificate(readFileSync(join(dir, 'node.crt')));
  assert.ok(cert.subjectAltName?.includes(meta.nodeId));
  assert.is(readFileSync(join(dir, 'ca.crt'), 'utf8'), gw.gateway.caPem());
  await killAllUnder(dir);
  await run;
});

test('an incomplete identity is reported, not silently replaced', async () => {
  const dir = freshDir();
  const r0 = runHostd([...base(dir)]); // creates nothing: no token
  await r0;
  writeFileSync(join(dir, 'node.json'), '{"nodeId":"x"}');
  const r = await runHostd(base(dir));
  assert.is(r.code, 1);
  assert.match(r.stderr, /incomplete identity .*node\.key, node\.crt, ca\.crt missing/);
});

test('a known name with a new key waits for approval, across a restart with the same key, then enrolls', async () => {
  const { csrPem } = createKeyAndCsr('held-h');
  const anon = client(gw.address, { caPem: gw.gateway.caPem() });
  await enroll(anon, { token: gw.backend.addToken('first-held-h'), nodeName: 'held-h', csrPem });
  anon.close();
  const dir = freshDir();
  gw.backend.addToken('held-tok', 1);
  const args = ['--manager', gw.address, '--data-dir', dir, '--agent-listen', '127.0.0.1:1', '--log-level', 'info', '--ca-hash', gw.gateway.caHash(), '--name', 'held-h'];
  const env = { OPS_ENROLL_TOKEN: 'held-tok', OPS_AGENT_COMMAND: 'true' };
  const first = startHostd(args, env);
  await waitUntil('waiting for approval', () => first.stdout().includes('waiting for approval'));
  const line = JSON.parse(first.stdout().split('\n').find((l) => l.includes('waiting for approval'))!) as { keyFingerprint: string; level: number };
  assert.is(line.keyFingerprint, gw.backend.byName('held-h')!.pending!.keyFingerprint);
  assert.is(statSync(join(dir, 'enroll.key')).mode & 0o777, 0o600);
  first.child.kill('SIGKILL');
  await first.exit;
  assert.is(gw.backend.tokens.get('held-tok')!.uses, 0, 'the token use went to the held request');

  // Restarted: same key from enroll.key, so still held rather than refused for a spent token.
  const second = startHostd(args, env);
  await waitUntil('waiting for approval again', () => second.stdout().includes('waiting for approval'));
  assert.is(gw.backend.byName('held-h')!.pending!.keyFingerprint, line.keyFingerprint);
  gw.backend.approve('held-h');
  await waitForFile(join(dir, 'node.json'), 45_000);
  await waitUntil('enrolled after approval', () => second.stdout().includes('enrolled: approved by an operator'));
  assert.not.ok(existsSync(join(dir, 'enroll.key')), 'the request key is now node.key');
  assert.is(keyFingerprint(readFileSync(join(dir, 'node.key'), 'utf8')), line.keyFingerprint);
  await killAllUnder(dir, [second]);
});

async function waitForFile(path: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test.run();
