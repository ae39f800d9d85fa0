// The REST API over HTTPS (http.tls): when it is on, the certificate from the manager's own CA (the
// host link's) and its names, the operator's certificate files, start-up errors for bad files, and
// the curl --pinnedpubkey value of the serving certificate, checked with real curl and openssl.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import { ConfigError } from '../../lib/config.js';
import { createLogger } from '../../lib/log.js';
import { caFingerprint, normaliseCaFingerprint } from '../../proto/ca-fingerprint.js';
import { loadManagerConfig, MANAGER_DEFAULTS } from '../../server/config.js';
import { httpsEnabled, isLoopbackHost, spkiPin } from '../../server/http/https.js';
import { runManager, type RunningManager } from '../../server/main.js';
import { makeOperatorCert } from '../helpers/openssl-ca.js';

const dirs: string[] = [];
const tempDir = () => { const d = mkdtempSync(join(tmpdir(), 'ops-https-')); dirs.push(d); return d; };
test.after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

const silent = () => createLogger({ component: 'manager', level: 'silent' });
const start = (dataDir: string, extra: Record<string, unknown> = {}) => runManager({
  env: {}, log: silent(),
  flags: { dataDir, 'http.host': '127.0.0.1', 'http.port': 0, 'grpc.host': '127.0.0.1', 'grpc.port': 0, 'grpc.advertise': 'manager.example.test:8441', ...extra },
});

/** GET /api/v1/openapi.json trusting `caPem` alone. */
async function getWithCa(url: string, caPem: string): Promise<number> {
  const dispatcher = new Agent({ connect: { ca: caPem } });
  try {
    const res = await undiciFetch(`${url}/api/v1/openapi.json`, { dispatcher });
    await res.arrayBuffer(); // an unread body holds the agent's close() open
    return res.status;
  } finally {
    await dispatcher.close();
  }
}

/** The chain a TLS listener presents, leaf first. */
function presentedChain(url: string): Promise<X509Certificate[]> {
  const { hostname: host, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: Number(port), rejectUnauthorized: false }, () => {
      const out: X509Certificate[] = [];
      for (let c = socket.getPeerCertificate(true); c?.raw && out.length < 5; c = c.issuerCertificate) {
        out.push(new X509Certificate(c.raw));
        if (c.issuerCertificate === c) break;
      }
      socket.end();
      resolve(out);
    });
    socket.once('error', reject);
  });
}

test('http.tls auto: HTTPS unless the listen address is loopback, or when the operator gives a certificate', () => {
  const http = (over: Partial<typeof MANAGER_DEFAULTS.http>) => ({ ...MANAGER_DEFAULTS.http, ...over });
  for (const host of ['127.0.0.1', '127.0.0.53', '::1', 'localhost']) {
    assert.ok(isLoopbackHost(host), host);
    assert.not.ok(httpsEnabled(http({ host })), `${host}: plain HTTP`);
  }
  for (const host of ['0.0.0.0', '::', '10.1.2.3', 'manager.example.com']) assert.ok(httpsEnabled(http({ host })), `${host}: HTTPS`);
  assert.ok(httpsEnabled(http({ host: '127.0.0.1', tlsCert: '/c', tlsKey: '/k' })));
  assert.ok(httpsEnabled(http({ host: '127.0.0.1', tls: 'on' })));
  assert.not.ok(httpsEnabled(http({ host: '0.0.0.0', tls: 'off' })));
});

test('config: bad http.tls values and half-given certificate files stop start-up naming the option', () => {
  const load = (flags: Record<string, unknown>) => () => loadManagerConfig({ env: {}, flags });
  assert.throws(load({ 'http.tls': 'yes' }), (e: Error) => e instanceof ConfigError && /http\.tls must be auto, on or off, got "yes"/.test(e.message));
  assert.throws(load({ 'http.tlsCert': '/etc/ssl/c.pem' }), /http\.tlsCert and http\.tlsKey go together/);
  assert.throws(load({ 'http.tlsKey': '/etc/ssl/k.pem' }), /http\.tlsCert and http\.tlsKey go together/);
  assert.throws(load({ 'http.tls': 'off', 'http.tlsCert': '/c', 'http.tlsKey': '/k' }), /http\.tlsCert is set but http\.tls is off/);
  assert.throws(load({ 'http.tlsAltNames': ['ok.example', 'bad name'] }), /http\.tlsAltNames must be a list of DNS names or IP addresses/);
  assert.equal(loadManagerConfig({ env: { OPS_HTTP_TLS_ALT_NAMES: 'a.example, 10.0.0.9' } }).http.tlsAltNames, ['a.example', '10.0.0.9']);
});

test('CA fingerprints: the form shown, and every form a person may paste', () => {
  const der = Buffer.from('not really a certificate');
  const fp = caFingerprint(der);
  assert.match(fp, /^SHA256:[0-9a-f]{64}$/);
  const hex = fp.slice(7);
  const openssl = hex.toUpperCase().match(/../g)!.join(':');
  for (const form of [fp, hex, hex.toUpperCase(), `sha256:${hex}`, openssl, `sha256 Fingerprint=${openssl}`.replace('sha256 Fingerprint', 'SHA256')]) {
    assert.is(normaliseCaFingerprint(form), fp, form);
  }
  for (const bad of ['', 'SHA256:', 'SHA256:abc', `SHA256:${hex}00`, `MD5:${hex}`]) assert.is(normaliseCaFingerprint(bad), undefined, bad);
});

test('tls on: HTTPS with a certificate from the host-link CA naming every address; hostd\'s --ca-hash is the same CA', async () => {
  const dataDir = tempDir();
  const m = await start(dataDir, { 'http.tls': 'on', 'http.tlsAltNames': ['ops.example.test', '192.0.2.10'] });
  try {
    assert.match(m.httpUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
    const caPem = readFileSync(join(dataDir, 'pki', 'ca.crt'), 'utf8');
    const ca = new X509Certificate(caPem);
    assert.is(m.https?.caFingerprint, caFingerprint(ca.raw));
    assert.is(m.https?.caFingerprint, `SHA256:${caHashOf(m)}`, 'what OpenSSL says of pki/ca.crt (and hostd --ca-hash takes)');
    assert.is(await getWithCa(m.httpUrl, caPem), 200, 'verified against the manager CA');

    const chain = await presentedChain(m.httpUrl);
    assert.is(chain.length, 2, 'leaf and CA');
    assert.ok(chain[1]!.raw.equals(ca.raw), 'the CA is sent, so opsctl login can show and pin it');
    const leaf = chain[0]!;
    assert.ok(leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
    for (const name of ['localhost', hostname(), 'ops.example.test', 'manager.example.test']) assert.ok(leaf.checkHost(name), name);
    for (const ip of ['127.0.0.1', '::1', '192.0.2.10']) assert.ok(leaf.checkIP(ip), ip);
    assert.ok(new X509Certificate(readFileSync(join(dataDir, 'pki', 'https.crt'))).raw.equals(leaf.raw), 'kept in pki/https.crt');

    // Plain fetch (system CAs only) refuses it: trust comes from the pin, not from anyone else.
    const plain = await fetch(`${m.httpUrl}/api/v1/openapi.json`).then(() => 'ok', (err: Error & { cause?: { code?: string } }) => err.cause?.code);
    assert.is(plain, 'SELF_SIGNED_CERT_IN_CHAIN');
  } finally {
    await m.stop();
  }

  // A restart keeps the key (the curl pin holds) and the certificate while its names are unchanged.
  const pinBefore = spkiPin(readFileSync(join(dataDir, 'pki', 'https.crt'), 'utf8'));
  const certBefore = readFileSync(join(dataDir, 'pki', 'https.crt'), 'utf8');
  const again = await start(dataDir, { 'http.tls': 'on', 'http.tlsAltNames': ['ops.example.test', '192.0.2.10'] });
  try {
    assert.is(again.https?.spkiPin, pinBefore);
    assert.is(readFileSync(join(dataDir, 'pki', 'https.crt'), 'utf8'), certBefore);
  } finally {
    await again.stop();
  }
  // A new name reissues the certificate from the same CA with the same key.
  const renamed = await start(dataDir, { 'http.tls': 'on', 'http.tlsAltNames': ['new.example.test'] });
  try {
    assert.is(renamed.https?.spkiPin, pinBefore);
    assert.ok((await presentedChain(renamed.httpUrl))[0]!.checkHost('new.example.test'));
  } finally {
    await renamed.stop();
  }
});

function caHashOf(m: RunningManager): string {
  return execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', join(m.config.dataDir, 'pki', 'ca.crt')]).toString()
    .replace(/^.*=/, '').replace(/:/g, '').trim().toLowerCase();
}

test('spkiPin is curl\'s --pinnedpubkey value: openssl computes the same, and curl accepts the manager with it and refuses another', async () => {
  const m = await start(tempDir(), { 'http.tls': 'on' });
  try {
    const pin = m.https!.spkiPin;
    assert.match(pin, /^sha256\/\/[A-Za-z0-9+/]{43}=$/);
    const tlsCert = join(m.config.dataDir, 'pki', 'https.crt');
    // The recipe in curl's documentation for --pinnedpubkey.
    const byOpenssl = execFileSync('sh', ['-c', `openssl x509 -in '${tlsCert}' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`]).toString().trim();
    assert.is(pin, `sha256//${byOpenssl}`);
    assert.is(spkiPin(readFileSync(tlsCert, 'utf8')), pin);
    const caFile = join(m.config.dataDir, 'pki', 'ca.crt');
    // Asynchronously: the manager answering curl runs in this process.
    const curl = (p: string) => promisify(execFile)('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', caFile, '--pinnedpubkey', p, `${m.httpUrl}/api/v1/openapi.json`])
      .then((r) => r.stdout, (err: { code: number }) => `exit ${err.code}`);
    assert.is(await curl(pin), '200');
    assert.is(await curl(`sha256//${Buffer.alloc(32, 7).toString('base64')}`), 'exit 90', 'curl: SSL public key does not match pinned public key');
  } finally {
    await m.stop();
  }
});

test('the operator\'s certificate and key (http.tlsCert/tlsKey) are served, with their chain; auto turns HTTPS on', async () => {
  const op = makeOperatorCert(tempDir());
  const m = await start(tempDir(), { 'http.tlsCert': op.chain, 'http.tlsKey': op.key });
  try {
    assert.match(m.httpUrl, /^https:/);
    const chain = await presentedChain(m.httpUrl);
    assert.ok(chain[0]!.raw.equals(new X509Certificate(readFileSync(op.leaf)).raw), 'the operator\'s certificate, not one of ours');
    const opCa = new X509Certificate(readFileSync(op.caCert));
    assert.is(m.https?.caFingerprint, caFingerprint(opCa.raw), 'their CA is what opsctl login pins');
    assert.is(await getWithCa(m.httpUrl, readFileSync(op.caCert, 'utf8')), 200);
    assert.is(m.https?.spkiPin, spkiPin(readFileSync(op.leaf, 'utf8')));
  } finally {
    await m.stop();
  }
  // A chain without its CA still serves; there is just nothing for opsctl login to pin.
  const leafOnly = await start(tempDir(), { 'http.tlsCert': op.leaf, 'http.tlsKey': op.key });
  try {
    assert.is(leafOnly.https?.caFingerprint, undefined);
    assert.is(await getWithCa(leafOnly.httpUrl, readFileSync(op.caCert, 'utf8')), 200);
  } finally {
    await leafOnly.stop();
  }
});

test('a missing, unreadable, malformed or mismatched certificate or key file stops start-up, naming the option and the file', async () => {
  const dir = tempDir();
  const op = makeOperatorCert(dir);
  mkdirSync(join(dir, 'x'));
  const other = makeOperatorCert(join(dir, 'x'));
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ 'http.tlsCert': op.chain, 'http.tlsKey': join(dir, 'missing.key') }, /config http\.tlsKey: cannot read the private key .*missing\.key: ENOENT/],
    [{ 'http.tlsCert': op.chain, 'http.tlsKey': dir }, /config http\.tlsKey: cannot read the private key .*: EISDIR/],
    [{ 'http.tlsCert': join(dir, 'missing.crt'), 'http.tlsKey': op.key }, /config http\.tlsCert: cannot read the certificate .*missing\.crt: ENOENT/],
    [{ 'http.tlsCert': op.key, 'http.tlsKey': op.key }, /config http\.tlsCert: .* holds no PEM certificate/],
    [{ 'http.tlsCert': op.chain, 'http.tlsKey': op.chain }, /config http\.tlsKey: .* is not a PEM private key/],
    [{ 'http.tlsCert': op.chain, 'http.tlsKey': other.key }, /config http\.tlsKey: .*x\/server\.key is not the key of the first certificate in .*chain\.crt/],
  ];
  for (const [flags, message] of cases) {
    const dataDir = tempDir();
    let err: Error | undefined;
    await start(dataDir, flags).then((m) => m.stop(), (e: Error) => { err = e; });
    assert.ok(err instanceof ConfigError, `refused: ${JSON.stringify(flags)}`);
    assert.match(err!.message, message);
  }
});

test.run();
