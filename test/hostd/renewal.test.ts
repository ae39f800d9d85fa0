// hostd's certificate renewal, the parts that need no manager: when to renew, and writing the
// renewed pair so that a crash at any point leaves a usable identity.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyAndCsr } from '../../hostd/enroll.js';
import { readIdentity, saveIdentity, saveRenewedPair } from '../../hostd/identity.js';
import { renewalTime } from '../../hostd/renewal.js';
import { ManagerPki } from '../../server/hostlink/pki.js';

const root = mkdtempSync(join(tmpdir(), 'ops-hostd-renewal-'));
const pki = ManagerPki.loadOrCreate({ pkiDir: join(root, 'pki'), advertiseHost: '' });
let n = 0;

function pair(days = 30) {
  const { keyPem, csrPem } = createKeyAndCsr('renew-host');
  return { keyPem, certPem: pki.signNodeCsr(csrPem, 'renew-host', 'node-1', days).certificatePem };
}

function enrolledDir() {
  const dir = join(root, `h${++n}`);
  const p = pair();
  saveIdentity(dir, { nodeId: 'node-1', nodeName: 'renew-host', managerAddress: '127.0.0.1:1', enrolledAt: new Date().toISOString(), caPem: pki.caCertPem, ...p });
  return { dir, ...p };
}

test.after(() => rmSync(root, { recursive: true, force: true }));

test('renewal time: a third of the lifetime before expiry, minus at most a twelfth as jitter', () => {
  const { certPem } = pair(30);
  const cert = new X509Certificate(certPem);
  const lifetime = Date.parse(cert.validTo) - Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  assert.is(renewalTime(certPem, () => 0).renewAt, notAfter - lifetime / 3);
  assert.is(renewalTime(certPem, () => 1).renewAt, notAfter - lifetime / 3 - lifetime / 12);
  // A short-lived certificate is backdated by a tenth of its life at most, so it is not renewed at once.
  const short = renewalTime(pair(60 / 86_400).certPem, () => 1);
  assert.ok(short.renewAt > Date.now() + 20_000, `renew at +${short.renewAt - Date.now()} ms`);
});

test('a renewed pair replaces node.key and node.crt and leaves nothing staged', () => {
  const id = enrolledDir();
  const next = pair();
  saveRenewedPair(id.dir, next.keyPem, next.certPem);
  const read = readIdentity(id.dir)!;
  assert.is(read.keyPem, next.keyPem);
  assert.is(read.certPem, next.certPem);
  assert.not.ok(existsSync(join(id.dir, 'renew.key')) || existsSync(join(id.dir, 'renew.crt')));
});

test('a crash after staging the whole pair: the next start finishes the swap', () => {
  const id = enrolledDir();
  const next = pair();
  writeFileSync(join(id.dir, 'renew.key'), next.keyPem);
  writeFileSync(join(id.dir, 'renew.crt'), next.certPem);
  // ... and even after node.key alone was replaced (a mismatched live pair).
  writeFileSync(join(id.dir, 'node.key'), next.keyPem);
  const read = readIdentity(id.dir)!;
  assert.is(read.keyPem, next.keyPem);
  assert.is(read.certPem, next.certPem);
  assert.not.ok(existsSync(join(id.dir, 'renew.key')));
});

test('a crash while staging (half a pair, or a pair that does not match): the old pair stays', () => {
  const id = enrolledDir();
  const next = pair();
  writeFileSync(join(id.dir, 'renew.key'), next.keyPem);
  let read = readIdentity(id.dir)!;
  assert.is(read.keyPem, id.keyPem);
  assert.is(read.certPem, id.certPem);
  assert.not.ok(existsSync(join(id.dir, 'renew.key')));

  writeFileSync(join(id.dir, 'renew.key'), next.keyPem);
  writeFileSync(join(id.dir, 'renew.crt'), pair().certPem);
  read = readIdentity(id.dir)!;
  assert.is(read.keyPem, id.keyPem);
  assert.is(readFileSync(join(id.dir, 'node.crt'), 'utf8'), id.certPem);
});

test.run();
