import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { ManagerPki } from '../../server/hostlink/pki.js';
import { checkClientCertificate, nodeIdFromSubjectAltName } from '../../server/hostlink/client-cert.js';
import { InvalidCsrError, randomSerial } from '../../server/hostlink/x509.js';
import { createKeyAndCsr } from '../../hostd/enroll.js';

const dir = mkdtempSync(join(tmpdir(), 'ops-pki-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('first start creates the CA (key 0600) and a server certificate with the advertised host', () => {
  const pkiDir = join(dir, 'a');
  const pki = ManagerPki.loadOrCreate({ pkiDir, advertiseHost: 'manager.example.test:8441' });
  assert.is(statSync(join(pkiDir, 'ca.key')).mode & 0o777, 0o600);
  assert.is(statSync(join(pkiDir, 'server.key')).mode & 0o777, 0o600);
  assert.equal(readdirSync(pkiDir).sort(), ['ca.crt', 'ca.key', 'server.crt', 'server.key'], 'no temporary files left');
  const ca = new X509Certificate(readFileSync(join(pkiDir, 'ca.crt')));
  assert.ok(ca.ca);
  assert.is(pki.caHash(), createHash('sha256').update(ca.raw).digest('hex'));
  const server = new X509Certificate(pki.serverCertPem);
  assert.ok(server.checkIssued(ca) && server.verify(ca.publicKey));
  for (const host of ['localhost', 'manager.example.test']) assert.is(server.checkHost(host), host);
  for (const ip of ['127.0.0.1', '::1']) assert.ok(server.checkIP(ip), ip);
  assert.ok(pki.serverChainPem().includes(pki.caCertPem.trim()), 'the served chain carries the CA for --ca-hash');
});

test('a restart reuses the CA and server key pair; a new advertised host reissues only the server certificate', () => {
  const pkiDir = join(dir, 'b');
  const first = ManagerPki.loadOrCreate({ pkiDir, advertiseHost: '' });
  const again = ManagerPki.loadOrCreate({ pkiDir, advertiseHost: '' });
  assert.is(again.caHash(), first.caHash());
  assert.is(again.serverCertPem, first.serverCertPem);
  const moved = ManagerPki.loadOrCreate({ pkiDir, advertiseHost: '[2001:db8::7]:8441' });
  assert.is(moved.caHash(), first.caHash());
  assert.is(moved.serverKeyPem, first.serverKeyPem);
  assert.is.not(moved.serverCertPem, first.serverCertPem);
  assert.ok(new X509Certificate(moved.serverCertPem).checkIP('2001:db8::7'));
});

test('a CA directory with only one of ca.key / ca.crt is an error, not a silent new CA', () => {
  const pkiDir = join(dir, 'c');
  ManagerPki.loadOrCreate({ pkiDir, advertiseHost: '' });
  rmSync(join(pkiDir, 'ca.key'));
  assert.throws(() => ManagerPki.loadOrCreate({ pkiDir, advertiseHost: '' }), /ca\.key and ca\.crt must both exist/);
});

const pki = ManagerPki.loadOrCreate({ pkiDir: join(dir, 'main'), advertiseHost: '' });

test('a node CSR is signed: CN = node name, node id in a URI SAN, chains to the CA', () => {
  const { keyPem, csrPem } = createKeyAndCsr('web-01');
  const issued = pki.signNodeCsr(csrPem, 'web-01', 'node-123', 30);
  const cert = new X509Certificate(issued.certificatePem);
  assert.ok(cert.checkIssued(pki.caCertificate) && cert.verify(pki.caCertificate.publicKey));
  assert.ok(cert.checkPrivateKey(createPrivateKey(keyPem)));
  assert.match(cert.subject, /CN=web-01/);
  assert.is(nodeIdFromSubjectAltName(cert.subjectAltName), 'node-123');
  assert.is(issued.fingerprint, createHash('sha256').update(cert.raw).digest('hex'));
  const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
  assert.ok(days > 29 && days <= 30, String(days));
  const check = checkClientCertificate(cert.raw, pki.caCertificate);
  assert.equal(check, { ok: true, nodeId: 'node-123', fingerprint: issued.fingerprint, commonName: 'web-01' });
});

test('serials are minimal positive DER integers: every one of 2,000 certificates parses (a leading zero byte broke 1 in 256)', () => {
  for (let i = 0; i < 2000; i++) {
    const serial = randomSerial();
    assert.ok(/^[4-7][0-9a-f]{31}$/.test(serial), serial);
  }
  const { csrPem } = createKeyAndCsr('serial-check');
  const checked = pki.checkNodeCsr(csrPem);
  for (let i = 0; i < 300; i++) {
    const issued = pki.signNodeCsr(checked, 'serial-check', `node-${i}`, 30);
    assert.is(new X509Certificate(issued.certificatePem).serialNumber.toLowerCase(), issued.serial);
  }
});

test('malformed CSRs are refused with InvalidCsrError', () => {
  const cases: [string, RegExp][] = [
    ['', /expected a PEM/],
    ['hello', /expected a PEM/],
    ['-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n', /malformed CSR/],
    // Flip a byte inside the signed part: the self-signature no longer matches.
    [tamper(), /signature does not match/],
    [weakCsr(), /at least 2048 bits/],
    [pki.caCertPem, /expected a PEM "CERTIFICATE REQUEST"/],
  ];
  for (const [pem, reason] of cases) {
    try {
      pki.signNodeCsr(pem, 'x', 'id', 1);
      assert.unreachable(`accepted ${pem.slice(0, 40)}`);
    } catch (err) {
      assert.instance(err, InvalidCsrError);
      assert.match((err as Error).message, reason);
    }
  }
});

/** The same request with its subject changed after signing (same length, so the DER stays valid). */
function tamper(): string {
  const { csrPem } = createKeyAndCsr('tamper-me-1');
  const der = Buffer.from(csrPem.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
  const at = der.indexOf('tamper-me-1');
  der.write('tamper-me-2', at);
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
}

function weakCsr(): string {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 1024, e: 0x10001 });
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = keys.publicKey;
  csr.setSubject([{ name: 'commonName', value: 'weak' }]);
  csr.sign(keys.privateKey, forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

test('client certificate checks: missing, another CA, expired, not yet valid, no node id', () => {
  const { csrPem } = createKeyAndCsr('n');
  const good = new X509Certificate(pki.signNodeCsr(csrPem, 'n', 'id-1', 1).certificatePem);
  const other = ManagerPki.loadOrCreate({ pkiDir: join(dir, 'other'), advertiseHost: '' });
  const foreign = new X509Certificate(other.signNodeCsr(csrPem, 'n', 'id-1', 1).certificatePem);
  const reason = (r: ReturnType<typeof checkClientCertificate>) => (r.ok ? 'ok' : r.reason);
  assert.match(reason(checkClientCertificate(undefined, pki.caCertificate)), /no valid client certificate/);
  assert.match(reason(checkClientCertificate(Buffer.from('junk'), pki.caCertificate)), /cannot be parsed/);
  assert.match(reason(checkClientCertificate(foreign.raw, pki.caCertificate)), /not issued by this manager's CA/);
  assert.match(reason(checkClientCertificate(good.raw, pki.caCertificate, Date.now() + 3 * 86_400_000)), /expired/);
  assert.match(reason(checkClientCertificate(good.raw, pki.caCertificate, Date.now() - 86_400_000)), /not valid before/);
  // The server certificate is from our CA but names no node.
  assert.match(reason(checkClientCertificate(new X509Certificate(pki.serverCertPem).raw, pki.caCertificate)), /no node id/);
});

test.run();
