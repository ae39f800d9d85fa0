// opsctl login against a manager serving HTTPS from its own CA: the CA is shown and pinned on first
// use (known_cas), never trusted without a person or a flag saying so, enforced on every later
// command, and a manager that comes back with another CA (a new data directory) is refused, naming
// both fingerprints, until --forget-ca. The manager is real (runManager, real TLS); opsctl is the
// built binary in its own process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../lib/log.js';
import { runManager, type RunningManager } from '../../server/main.js';
import { freePort, freePorts } from '../helpers/ports.js';
import { ConfigHome, ensureBuilt, opsctl, opsctlBin } from './run-opsctl.js';

let port = 0;
let url = '';
let m: RunningManager | undefined;
let logged = '';
const dirs: string[] = [];
const homes: ConfigHome[] = [];
const freshHome = () => { const h = new ConfigHome(); homes.push(h); return h; };
const knownCas = (h: ConfigHome) => join(h.dir, 'opsctl', 'known_cas');
const requests = () => logged.split('\n').filter((l) => l.includes('"msg":"request"')).length;

/** A manager on `port` with a fresh data directory, so a fresh CA. */
async function startManager(): Promise<RunningManager> {
  const dataDir = mkdtempSync(join(tmpdir(), 'opsctl-cli-https-'));
  dirs.push(dataDir);
  const log = new PassThrough();
  log.on('data', (d) => { logged += d; });
  return runManager({
    env: {},
    flags: { dataDir, 'http.host': '127.0.0.1', 'http.port': port, 'http.tls': 'on', 'grpc.host': '127.0.0.1', 'grpc.port': 0, 'grpc.advertise': '' },
    log: createLogger({ component: 'manager', level: 'debug', destination: log }),
  });
}

const admin = () => m!.initialAdmin!;
const fingerprint = () => m!.https!.caFingerprint!;
const loginArgs = (...extra: string[]) => ['login', '--server', url, '--username', admin().username, '--password', admin().password, ...extra];

test.before(async () => {
  ensureBuilt();
  port = await freePort();
  m = await startManager();
  url = m.httpUrl;
});
test.after(async () => {
  await m?.stop();
  for (const h of homes) h.remove();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('the manager serves HTTPS and names its CA the way opsctl shows it', () => {
  assert.is(url, `https://127.0.0.1:${port}`);
  const ca = new X509Certificate(readFileSync(join(m!.config.dataDir, 'pki', 'ca.crt')));
  assert.match(fingerprint(), /^SHA256:[0-9a-f]{64}$/);
  assert.is(fingerprint().slice(7), ca.fingerprint256.replace(/:/g, '').toLowerCase());
});

test('first use without a terminal or a flag: refused (exit 2) showing the fingerprint; no password sent, nothing saved', async () => {
  const home = freshHome();
  const before = requests();
  const r = await opsctl(home, loginArgs());
  assert.is(r.code, 2, r.stderr);
  assert.ok(r.stderr.includes(`presents CA ${fingerprint()}, which is not pinned yet, and there is no terminal to confirm it`), r.stderr);
  assert.ok(r.stderr.includes(`pass --ca-fingerprint ${fingerprint()} (or --accept-new-ca`), r.stderr);
  assert.is(requests(), before, 'the login request was never made');
  assert.not.ok(existsSync(knownCas(home)));
  assert.not.ok(existsSync(home.configFile));
});

test('a wrong --ca-fingerprint is refused naming both; a malformed one is a usage error; nothing saved', async () => {
  const home = freshHome();
  const wrong = `SHA256:${'ab'.repeat(32)}`;
  const r = await opsctl(home, loginArgs('--ca-fingerprint', wrong));
  assert.is(r.code, 1);
  assert.is(r.stderr, `Error: the manager at ${url} presents CA ${fingerprint()}, not ${wrong} given with --ca-fingerprint: refusing to connect; nothing was saved\n`);
  const bad = await opsctl(home, loginArgs('--ca-fingerprint', 'SHA256:1234'));
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /--ca-fingerprint: "SHA256:1234" is not a SHA-256 fingerprint/);
  assert.not.ok(existsSync(knownCas(home)));
  assert.not.ok(existsSync(home.configFile));
});

test('the right --ca-fingerprint (OpenSSL\'s form too) pins the CA (0600); later commands verify against it', async () => {
  const home = freshHome();
  const openssl = fingerprint().slice(7).toUpperCase().match(/../g)!.join(':');
  const r = await opsctl(home, loginArgs('--ca-fingerprint', openssl));
  assert.is(r.code, 0, r.stderr);
  assert.ok(r.stderr.startsWith(`Pinned the manager's CA ${fingerprint()} for ${url} in ${knownCas(home)}.\nLogged in to ${url} as admin`), r.stderr);
  assert.is(statSync(knownCas(home)).mode & 0o777, 0o600);
  const lines = readFileSync(knownCas(home), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  assert.is(lines.length, 1);
  const [server, fp, der] = lines[0]!.split(' ');
  assert.is(server, url);
  assert.is(fp, fingerprint());
  assert.ok(Buffer.from(der!, 'base64').equals(new X509Certificate(readFileSync(join(m!.config.dataDir, 'pki', 'ca.crt'))).raw));

  const who = await opsctl(home, ['whoami', '--json']);
  assert.is(who.code, 0, who.stderr);
  assert.is((JSON.parse(who.stdout) as { name: string }).name, 'admin');
  const ls = await opsctl(home, ['nodes', 'ls', '--json']);
  assert.is(ls.code, 0, ls.stderr);
  assert.is(ls.stdout, '[]\n');
  // Over HTTPS a new token comes with the one-line install, pinned to the manager's key; --json carries its source.
  const install = { url: `https://${hostname()}:${port}`, spkiPin: m!.https!.spkiPin };
  const tok = await opsctl(home, ['nodes', 'token', 'create']);
  assert.is(tok.code, 0, tok.stderr);
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  assert.match(tok.stdout, new RegExp(`^install\tcurl -fsSL -k --pinnedpubkey ${esc(install.spkiPin)} ${esc(install.url)}/install\\.sh \\| sudo OPS_ENROLL_TOKEN=[A-Za-z0-9_-]+ sh$`, 'm'));
  const tokJson = await opsctl(home, ['nodes', 'token', 'create', '--json']);
  assert.equal((JSON.parse(tokJson.stdout) as { install?: unknown }).install, install);
  // An event stream (Server-Sent Events) through the same client.
  const top = await opsctl(home, ['top', '--once', '--json']);
  assert.is(top.code, 0, top.stderr);
  assert.is(top.stdout, '[]\n');
  // An upload goes through node:https, which must trust the pinned CA too.
  const file = join(home.dir, 'hello.txt');
  writeFileSync(file, 'hello\n');
  const up = await opsctl(home, ['files', 'upload', file, '/tmp/hello.txt', '--all']);
  assert.match(up.stderr, /^stored hello\.txt on the manager/m);

  // A second login finds the pin and asks nothing.
  const again = await opsctl(home, loginArgs());
  assert.is(again.code, 0, again.stderr);
  assert.not.ok(again.stderr.includes('Pinned'));
  const out = await opsctl(home, ['logout']);
  assert.is(out.code, 0, out.stderr);
  assert.match(out.stderr, /^Logged out of https:/);
});

test('on a terminal the CA is shown and a person decides: no leaves nothing, yes pins', async () => {
  const home = freshHome();
  const no = await opsctl(home, loginArgs(), { tty: true, stdin: 'n\n' });
  assert.is(no.code, 1, no.stdout);
  assert.ok(no.stdout.includes(`presents a certificate from a CA opsctl does not know yet:\n  CN=opsctl host-link CA`), no.stdout);
  assert.ok(no.stdout.includes(`  ${fingerprint()}\nBefore trusting it, compare it with the fingerprint the manager logged at start`), no.stdout);
  assert.ok(no.stdout.includes('Trust this CA for this manager? [y/N]'));
  assert.ok(no.stdout.includes('Error: the manager\'s CA was not trusted; nothing was saved'), no.stdout);
  assert.not.ok(existsSync(knownCas(home)));

  const yes = await opsctl(home, loginArgs(), { tty: true, stdin: 'y\n' });
  assert.is(yes.code, 0, yes.stdout);
  assert.ok(yes.stdout.includes(`Pinned the manager's CA ${fingerprint()}`), yes.stdout);
  assert.ok(readFileSync(knownCas(home), 'utf8').includes(`${url} ${fingerprint()} `));
});

test('--accept-new-ca trusts what is presented on first use (ssh\'s accept-new), showing it', async () => {
  const home = freshHome();
  const r = await opsctl(home, loginArgs('--accept-new-ca'));
  assert.is(r.code, 0, r.stderr);
  assert.ok(r.stderr.includes(`  ${fingerprint()}\nTrusting it (--accept-new-ca); it will be pinned in ${knownCas(home)}.`), r.stderr);
  assert.ok(readFileSync(knownCas(home), 'utf8').includes(`${url} ${fingerprint()} `));
});

test('CA flags with an http:// manager are usage errors', async () => {
  for (const flag of ['--accept-new-ca', '--forget-ca']) {
    const r = await opsctl(freshHome(), ['login', '--server', 'http://127.0.0.1:1', '--username', 'a', '--password', 'b', flag]);
    assert.is(r.code, 2);
    assert.is(r.stderr, `Error: ${flag} is for https:// managers; http://127.0.0.1:1 is plain HTTP\n`);
  }
});

test('an HTTPS manager nobody pinned: a command says how to pin it; a damaged known_cas line is named', async () => {
  const home = freshHome();
  mkdirSync(dirname(home.configFile), { recursive: true, mode: 0o700 });
  writeFileSync(home.configFile, `server: ${url}\ntoken: whatever\nuser: admin\n`, { mode: 0o600 });
  const r = await opsctl(home, ['whoami']);
  assert.is(r.code, 1);
  assert.is(r.stderr, `Error: cannot reach the manager at ${url} (TLS: self-signed certificate in chain; run 'opsctl login --server ${url}' to check and pin the manager's CA)\n`);

  const caDer = new X509Certificate(readFileSync(join(m!.config.dataDir, 'pki', 'ca.crt'))).raw.toString('base64');
  const damagedLines: [string, string][] = [
    [`${url} ${fingerprint()} AAAA`, 'the certificate does not parse'],
    [`${url} ${fingerprint()}`, 'expected "<url> SHA256:<hex> <base64 certificate>"'],
    [`${url} SHA256:${'0'.repeat(64)} ${caDer}`, `the fingerprint does not match the certificate (${fingerprint()})`],
  ];
  for (const [line, why] of damagedLines) {
    writeFileSync(knownCas(home), `# comment\nhttps://other.example ${fingerprint()} ${caDer}\n${line}\n`, { mode: 0o600 });
    const damaged = await opsctl(home, ['whoami']);
    assert.is(damaged.code, 1);
    assert.is(damaged.stderr, `Error: ${knownCas(home)} line 3: ${why}; fix or delete the line\n`);
  }
});

test('a manager back with another CA (new data directory): refused naming both, until --forget-ca; other pins are kept', async () => {
  const home = freshHome();
  assert.is((await opsctl(home, loginArgs('--ca-fingerprint', fingerprint()))).code, 0);
  const otherLine = `https://other.example:8440 ${fingerprint()} ${readFileSync(knownCas(home), 'utf8').trim().split('\n').pop()!.split(' ')[2]}`;
  writeFileSync(knownCas(home), readFileSync(knownCas(home), 'utf8') + `# my note\n${otherLine}\n`);
  const oldFp = fingerprint();

  await m!.stop();
  m = await startManager();
  assert.is(m.httpUrl, url, 'same address');
  const newFp = fingerprint();
  assert.is.not(newFp, oldFp);

  const refusal = `the manager at ${url} presents a certificate from CA ${newFp}, but CA ${oldFp} is pinned for it in ${knownCas(home)}: ` +
    'someone may be intercepting the connection, or the manager\'s CA was replaced. Refusing to connect. ' +
    `If the change is expected (check the fingerprint in the manager's log), run 'opsctl login --server ${url} --forget-ca' to trust the new CA.`;
  const before = requests();
  const who = await opsctl(home, ['whoami']);
  assert.is(who.code, 1);
  assert.is(who.stderr, `Error: ${refusal}\n`);
  const login = await opsctl(home, loginArgs('--accept-new-ca'));
  assert.is(login.code, 1, '--accept-new-ca does not override a pin');
  assert.is(login.stderr, `Error: ${refusal}\n`);
  assert.is(requests(), before, 'no request (no token, no password) reached the manager');

  // --forget-ca: the new CA is checked like a new one (here against the fingerprint given) and replaces the pin.
  const wrong = await opsctl(home, loginArgs('--forget-ca', '--ca-fingerprint', oldFp));
  assert.is(wrong.code, 1);
  assert.ok(readFileSync(knownCas(home), 'utf8').includes(`${url} ${oldFp} `), 'a refused login keeps the old pin');
  const ok = await opsctl(home, loginArgs('--forget-ca', '--ca-fingerprint', newFp));
  assert.is(ok.code, 0, ok.stderr);
  const text = readFileSync(knownCas(home), 'utf8');
  assert.ok(text.includes(`${url} ${newFp} `));
  assert.not.ok(text.includes(`${url} ${oldFp} `));
  assert.ok(text.includes(`# my note\n${otherLine}\n`), 'other lines and comments are kept');
  assert.is((await opsctl(home, ['whoami'])).code, 0);
});

test('opsctl server with http.tls on prints the CA fingerprint, and the login command it prints works as printed', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'opsctl-cli-https-server-'));
  dirs.push(dataDir);
  const [httpPort, grpcPort] = await freePorts(2);
  const server = spawn(process.execPath, [opsctlBin, 'server', '--log-level', 'warn'], {
    env: { ...process.env, OPS_DATA_DIR: dataDir, OPS_HTTP_HOST: '127.0.0.1', OPS_HTTP_PORT: String(httpPort), OPS_HTTP_TLS: 'on',
      OPS_GRPC_HOST: '127.0.0.1', OPS_GRPC_PORT: String(grpcPort), OPS_GRPC_ADVERTISE: `127.0.0.1:${grpcPort}` },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    let err = '';
    const printed = await new Promise<RegExpExecArray>((resolve, reject) => {
      const pattern = /^REST API CA fingerprint: (SHA256:[0-9a-f]{64})\nCreated the first user\. Sign in with:\n {2}opsctl (login .*)\n/m;
      server.stderr!.on('data', (d: Buffer) => { err += d; const found = pattern.exec(err); if (found) resolve(found); });
      server.once('exit', (code) => reject(new Error(`opsctl server exited (${code}):\n${err}`)));
    });
    assert.ok(err.startsWith(`opsctl manager listening: REST https://127.0.0.1:${httpPort}, hosts (gRPC) 127.0.0.1:${grpcPort}\n`), err);
    const [, fp, command] = printed;
    assert.is(fp, `SHA256:${new X509Certificate(readFileSync(join(dataDir, 'pki', 'ca.crt'))).fingerprint256.replace(/:/g, '').toLowerCase()}`);
    assert.is(command, `login --server https://127.0.0.1:${httpPort} --username admin --ca-fingerprint ${fp}`);
    const password = /^password: (\S+)$/m.exec(readFileSync(join(dataDir, 'initial-admin.txt'), 'utf8'))![1]!;
    const home = freshHome();
    const r = await opsctl(home, [...command!.split(' '), '--password-stdin'], { stdin: `${password}\n` });
    assert.is(r.code, 0, r.stderr);
    assert.ok(r.stderr.startsWith(`Pinned the manager's CA ${fp}`), r.stderr);
    assert.is((await opsctl(home, ['nodes', 'ls', '--json'])).stdout, '[]\n');
  } finally {
    server.kill('SIGTERM');
    if (server.exitCode === null) await new Promise((resolve) => server.once('exit', resolve));
  }
});

test.run();
