// runManager as the CLI's `opsctl server` uses it: real HTTP listen, real gRPC gateway, SQLite
// (and MariaDB when OPS_TEST_MYSQL_URL is set), migrations at start, first admin, clean stop.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ConfigError } from '../../lib/config.js';
import { createLogger } from '../../lib/log.js';
import { loadManagerConfig } from '../../server/config.js';
import { createScratchDatabase, dropDatabase } from '../../server/db/mysql-admin.js';
import { databaseTarget, openOrm } from '../../server/db/orm.js';
import { runManager } from '../../server/main.js';
import { systemPrincipal } from '../../server/access/principal.js';
import { MYSQL_URL } from './harness.js';

const dirs: string[] = [];
const tempDir = () => { const d = mkdtempSync(join(tmpdir(), 'ops-manager-main-')); dirs.push(d); return d; };
test.after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function quietLog() {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => { text += d; });
  return { log: createLogger({ component: 'manager', level: 'info', destination: out }), text: () => text };
}

const flagsFor = (dataDir: string, extra: Record<string, unknown> = {}) => ({
  dataDir, 'http.port': 0, 'grpc.host': '127.0.0.1', 'grpc.port': 0, 'grpc.advertise': '127.0.0.1:1', ...extra,
});

async function login(httpUrl: string, username: string, password: string): Promise<{ status: number; token?: string }> {
  const res = await fetch(`${httpUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  const body = (await res.json()) as { data: { token: string } | null };
  return { status: res.status, token: body.data?.token };
}

test('data directory: files 0600 and folders 0700, even when it existed with looser modes; no password in the log', async () => {
  const dataDir = tempDir();
  chmodSync(dataDir, 0o755);
  mkdirSync(join(dataDir, 'pki'), { mode: 0o755 });
  writeFileSync(join(dataDir, 'notes.txt'), 'left by an operator', { mode: 0o644 });
  chmodSync(join(dataDir, 'notes.txt'), 0o644);
  const log = quietLog();
  const m = await runManager({ env: {}, flags: flagsFor(dataDir), log: log.log });
  try {
    // A write, so the WAL and the secrets key exist too.
    const { token } = await login(m.httpUrl, 'admin', m.initialAdmin!.password);
    const res = await fetch(`${m.httpUrl}/api/v1/enrollment-tokens`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    assert.is(res.status, 201);
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const p = join(dir, e.name);
      return e.isDirectory() ? [p, ...walk(p)] : [p];
    });
    const entries = [dataDir, ...walk(dataDir)];
    assert.ok(entries.some((p) => p.endsWith('manager.db-wal')), 'the WAL exists');
    assert.ok(entries.some((p) => p.endsWith('secrets.key')), 'the secrets key exists');
    for (const p of entries) {
      const st = statSync(p);
      assert.is(st.mode & 0o777, st.isDirectory() ? 0o700 : 0o600, p);
    }
    assert.not.ok(log.text().includes(m.initialAdmin!.password));
  } finally {
    await m.stop();
  }
});

test('first start: migrates SQLite, creates admin (file 0600), JWT secret (0600); restart keeps both', async () => {
  const dataDir = tempDir();
  const first = quietLog();
  const m1 = await runManager({ env: {}, flags: flagsFor(dataDir), log: first.log });
  let token: string | undefined;
  try {
    assert.ok(m1.initialAdmin);
    assert.is(m1.initialAdmin!.username, 'admin');
    assert.match(m1.httpUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.is(m1.grpcAddress, '127.0.0.1:1');
    const derived = await runManager({ env: {}, flags: { ...flagsFor(tempDir()), 'grpc.advertise': '' }, log: quietLog().log });
    await derived.stop();
    assert.match(derived.grpcAddress, /:[1-9]\d*$/, 'with grpc.port 0 the advertised port is the bound one');
    const file = join(dataDir, 'initial-admin.txt');
    assert.is(statSync(file).mode & 0o777, 0o600);
    assert.match(readFileSync(file, 'utf8'), new RegExp(`password: ${m1.initialAdmin!.password}`));
    assert.is(statSync(join(dataDir, 'jwt.secret')).mode & 0o777, 0o600);
    assert.ok(existsSync(join(dataDir, 'manager.db')));
    const health = await fetch(`${m1.httpUrl}/api/v1/health`);
    assert.is(health.status, 200);
    const ok = await login(m1.httpUrl, 'admin', m1.initialAdmin!.password);
    assert.is(ok.status, 200);
    token = ok.token;
    const tok = await fetch(`${m1.httpUrl}/api/v1/enrollment-tokens`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    assert.is(tok.status, 201);
    const created = (await tok.json()) as { data: { caHash: string; token: string } };
    assert.match(created.data.caHash, /^[0-9a-f]{64}$/, 'the CA hash comes from the real gateway');
    assert.not.ok(first.text().includes(m1.initialAdmin!.password), 'the admin password is not logged');
    assert.not.ok(first.text().includes(created.data.token), 'the enrollment token is not logged');
    assert.not.ok(first.text().includes(token!), 'the JWT is not logged');
  } finally {
    await m1.stop();
  }
  const m2 = await runManager({ env: {}, flags: flagsFor(dataDir), log: quietLog().log });
  try {
    assert.is(m2.initialAdmin, undefined);
    const nodes = await fetch(`${m2.httpUrl}/api/v1/nodes`, { headers: { authorization: `Bearer ${token}` } });
    assert.is(nodes.status, 200, 'a token from before the restart is still valid');
  } finally {
    await m2.stop();
  }
  await m2.stop();
});

test('migrations create every table on SQLite and are recorded', async () => {
  const dataDir = tempDir();
  const m = await runManager({ env: {}, flags: flagsFor(dataDir), log: quietLog().log });
  await m.stop();
  const orm = await openOrm(databaseTarget('', dataDir));
  try {
    const rows = (await orm.em.fork().getConnection().execute("select name from sqlite_master where type = 'table'")) as { name: string }[];
    const names = rows.map((r) => r.name);
    for (const t of ['users', 'nodes', 'metric_samples', 'enrollment_tokens', 'tasks', 'task_runs', 'mikro_orm_migrations']) assert.ok(names.includes(t), `missing ${t}`);
    assert.equal(await orm.getMigrator().getPendingMigrations(), []);
  } finally {
    await orm.close(true);
  }
});

if (MYSQL_URL) {
  test('migrations run on MariaDB/MySQL and the manager serves from it', async () => {
    const scratch = await createScratchDatabase(MYSQL_URL, 'opsctl_test');
    try {
      const m = await runManager({ env: {}, flags: flagsFor(tempDir(), { 'database.url': scratch.url }), log: quietLog().log });
      try {
        assert.ok(m.initialAdmin);
        assert.is((await login(m.httpUrl, 'admin', m.initialAdmin!.password)).status, 200);
      } finally {
        await m.stop();
      }
      const orm = await openOrm(databaseTarget(scratch.url, ''));
      try {
        const rows = (await orm.em.fork().getConnection().execute('select table_name as t from information_schema.tables where table_schema = database()')) as { t: string }[];
        const names = rows.map((r) => r.t);
        for (const t of ['users', 'nodes', 'metric_samples', 'enrollment_tokens', 'tasks', 'task_runs']) assert.ok(names.includes(t), `missing ${t}`);
        assert.equal(await orm.getMigrator().getPendingMigrations(), []);
      } finally {
        await orm.close(true);
      }
    } finally {
      await dropDatabase(MYSQL_URL, scratch.name);
    }
  });
}

test('config: defaults, env and flags; bad values fail fast naming the option', () => {
  const c = loadManagerConfig({ env: {} });
  assert.is(c.http.port, 8440);
  assert.is(c.grpc.port, 8441);
  assert.match(c.grpc.advertise, /:8441$/);
  assert.is(c.tasks.outputLimitBytes, 1024 * 1024);
  assert.ok(c.dataDir.endsWith('data/manager'));
  assert.is(c.metrics.liveIntervalSeconds, 2);
  const env = loadManagerConfig({ env: { OPS_HTTP_PORT: '9000', OPS_GRPC_ADVERTISE: 'ops.example:443', OPS_DATABASE_URL: 'mysql://u:p@db:3306/ops' } });
  assert.is(env.http.port, 9000);
  assert.is(env.grpc.advertise, 'ops.example:443');
  assert.is(env.database.url, 'mysql://u:p@db:3306/ops');
  // Fractions of a day: short-lived certificates for renewal tests.
  assert.is(loadManagerConfig({ env: { OPS_HOSTLINK_CERTIFICATE_DAYS: '0.0005' } }).hostlink.certificateDays, 0.0005);
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ 'http.port': 70000 }, /http\.port/],
    [{ 'grpc.advertise': 'no-port' }, /grpc\.advertise/],
    [{ 'database.url': 'postgres://x/y' }, /database\.url/],
    [{ 'auth.tokenTtl': 'soon' }, /auth\.tokenTtl/],
    [{ 'metrics.rawRetention': '2 days' }, /config metrics\.rawRetention: invalid duration "2 days"/],
    [{ 'metrics.hourRetention': '0d' }, /metrics\.hourRetention must be longer than 0s/],
    [{ 'metrics.scrapeAllow': ['127.0.0.1/32', '10.0.0.0/40'] }, /^config metrics\.scrapeAllow: "10\.0\.0\.0\/40" is not an IP address or CIDR/],
    [{ 'metrics.scrapeToken': 'short' }, /metrics\.scrapeToken must be at least 16 characters/],
    [{ 'metrics.liveIntervalSeconds': 0 }, /metrics\.liveIntervalSeconds must be a positive integer, got 0/],
    [{ 'metrics.liveIntervalSeconds': 1.5 }, /metrics\.liveIntervalSeconds must be a positive integer/],
    [{ 'auth.jwtSecret': 'short' }, /auth\.jwtSecret/],
    [{ 'hostlink.offlineAfterSeconds': 10 }, /offlineAfterSeconds/],
    [{ 'hostlink.certificateDays': 0.0001 }, /hostlink\.certificateDays must be a number of days of at least 30 seconds/],
    [{ 'hostlink.certificateDays': 'soon' }, /hostlink\.certificateDays/],
    [{ 'tasks.outputLimitBytes': 0 }, /tasks\.outputLimitBytes/],
    [{ 'http.port': 'abc' }, /http\.port/],
  ];
  for (const [flags, message] of bad) {
    assert.throws(() => loadManagerConfig({ env: {}, flags }), (err: Error) => err instanceof ConfigError && message.test(err.message), JSON.stringify(flags));
  }
});

test('configs/manager.yaml documents every option and loads as-is', () => {
  const file = join(process.cwd(), 'configs', 'manager.yaml');
  const c = loadManagerConfig({ configFile: file, env: {} });
  assert.is(c.http.port, 8440);
  const text = readFileSync(file, 'utf8');
  for (const key of ['dataDir', 'host', 'port', 'advertise', 'url', 'jwtSecret', 'tokenTtl', 'heartbeatSeconds', 'metricsSeconds', 'offlineAfterSeconds', 'certificateDays', 'outputLimitBytes', 'defaultTimeoutSeconds', 'rawRetention', 'minuteRetention', 'hourRetention', 'liveIntervalSeconds', 'level']) {
    assert.match(text, new RegExp(`^\\s*#?\\s*${key}:`, 'm'), key);
  }
  const unknown = join(tempDir(), 'bad.yaml');
  writeFileSync(unknown, 'http:\n  prot: 1\n');
  assert.throws(() => loadManagerConfig({ configFile: unknown, env: {} }), /unknown option "http\.prot"/);
});

test('stop() lets a request in flight finish and ends open event streams', async () => {
  const dataDir = tempDir();
  const m = await runManager({ env: {}, flags: flagsFor(dataDir), log: quietLog().log });
  const { token } = await login(m.httpUrl, m.initialAdmin!.username, m.initialAdmin!.password);
  // A task with no live host stays running, so its event stream stays open until the manager stops.
  const nodeId = (await m.services.hostLink.redeemEnrollmentToken({
    token: (await m.services.tokens.create({}, 'test')).token, nodeName: 'stop-node', address: '127.0.0.1', keyFingerprint: '0'.repeat(64),
  })).nodeId;
  assert.ok(nodeId);
  const task = await m.services.tasks.create(systemPrincipal('test'), { selector: { all: true }, script: 'true' });
  const events = await fetch(`${m.httpUrl}/api/v1/tasks/${task.id}/events`, { headers: { authorization: `Bearer ${token}` } });
  assert.is(events.status, 200);
  const streamEnded = events.text();

  // A login whose body is still arriving when stop() begins.
  const body = JSON.stringify({ username: m.initialAdmin!.username, password: m.initialAdmin!.password });
  const url = new URL(`${m.httpUrl}/api/v1/auth/login`);
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.write(body.slice(0, 10));
    setTimeout(() => { stopped = m.stop(); setTimeout(() => req.end(body.slice(10)), 100); }, 100);
  });
  let stopped: Promise<void> | undefined;
  const res = await answer;
  assert.is(res.status, 200, res.body);
  assert.is(JSON.parse(res.body).code, 0);
  await streamEnded;
  await stopped;
});

test('a database that cannot be opened fails start-up with the reason', async () => {
  const dataDir = tempDir();
  try {
    await runManager({ env: {}, flags: flagsFor(dataDir, { 'database.url': 'mysql://nobody:x@127.0.0.1:1/ops' }), log: quietLog().log });
    assert.unreachable('should have failed');
  } catch (err) {
    assert.match((err as Error).message, /opening the database|running database migrations|ECONNREFUSED/);
  }
});

test.run();
