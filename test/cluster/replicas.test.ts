// Two real manager processes (`opsctl server`) on one MariaDB database and one Redis, as replicas:
// both list both, exactly one leads, and when the leader is killed (-9) the other leads within the
// lease and the dead one drops out of the list; both hold the same secrets from the database. Needs OPS_TEST_MYSQL_URL and OPS_TEST_REDIS_URL.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ClusterView } from '../../proto/rest/cluster.js';
import { RELEASE_HEADERS } from '../../proto/rest/releases.js';
import { generateReleaseKey, signRelease, type ReleaseManifest } from '../../proto/release.js';
import { api, binPath, readInitialAdmin } from '../../scripts/local-stack.js';
import { createScratchDatabase, dropDatabase } from '../../server/db/mysql-admin.js';
import { ConfigHome, ensureBuilt, opsctl } from '../cli/run-opsctl.js';
import { freePorts } from '../helpers/ports.js';
import { startSim, type SimProcess } from '../helpers/sim.js';
import { until } from '../server/harness.js';

const MYSQL_URL = process.env.OPS_TEST_MYSQL_URL ?? '';
const REDIS_URL = process.env.OPS_TEST_REDIS_URL ?? '';
const HOSTS = 10;
const RELEASE_KEY = generateReleaseKey();

interface Replica { proc: ChildProcess; url: string; grpc: string; dir: string }

function startReplica(env: NodeJS.ProcessEnv): Promise<Replica> {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-replica-'));
  const proc = spawn(process.execPath, [binPath('opsctl'), 'server'], {
    env: { ...process.env, ...env, OPS_DATA_DIR: dir, OPS_HTTP_HOST: '127.0.0.1', OPS_HTTP_PORT: '0', OPS_GRPC_HOST: '127.0.0.1', OPS_GRPC_PORT: '0', OPS_GRPC_ADVERTISE: '127.0.0.1:0', OPS_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`replica did not start in 60 s: ${err}`)), 60_000);
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening: REST (\S+), hosts \(gRPC\) (\S+)/.exec(err);
      if (m) { clearTimeout(timer); resolve({ proc, url: m[1], grpc: m[2], dir }); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`replica exited (${code}) before listening: ${err}`)); });
  });
}

async function clusterEnv() {
  const db = await createScratchDatabase(MYSQL_URL, 'opsctl_replicas');
  const env = {
    OPS_DATABASE_URL: db.url, OPS_REDIS_URL: REDIS_URL, OPS_REDIS_PREFIX: `opsctl-test:${randomUUID()}:`, OPS_REDIS_LEASE_MS: '2000',
    OPS_CLUSTER_KEY: randomBytes(32).toString('base64'),
  };
  return { db, env };
}

if (!MYSQL_URL || !REDIS_URL) {
  test('replica tests need OPS_TEST_MYSQL_URL and OPS_TEST_REDIS_URL (skipped)', () => undefined);
} else {
  test('two replicas: both listed, one leader; kill -9 the leader and the other leads within the lease', async () => {
    ensureBuilt();
    const { db, env } = await clusterEnv();
    const replicas: Replica[] = [];
    const home = new ConfigHome();
    try {
      // The first is configured with the release key the cluster trusts; the second with none.
      replicas.push(await startReplica({ ...env, OPS_RELEASES_TRUSTED_KEYS: RELEASE_KEY.publicKey }));
      replicas.push(await startReplica(env));
      const login = await api<{ token: string }>(replicas[0].url, undefined, 'POST', '/auth/login', readInitialAdmin(replicas[0].dir));
      const token = login.body.data.token;
      const view = async (r: Replica) => (await api<ClusterView>(r.url, token, 'GET', '/cluster')).body.data;

      // One JWT secret and one host CA, from the database: a token from A works on B, hosts trust either.
      const caHashes = await Promise.all(replicas.map(async (r) => (await api<{ caHash: string }>(r.url, token, 'POST', '/enrollment-tokens', { uses: 1, ttlSeconds: 60 })).body.data.caHash));
      assert.ok(caHashes[0], 'the token from replica A is accepted by B');
      assert.is(caHashes[0], caHashes[1], 'both replicas certify hosts with the same CA');

      // Accounts changed on A apply on B within seconds (auth.cacheSeconds, at most 5): a role
      // change, then a deletion.
      const password = 'replica-test-password';
      assert.ok((await api(replicas[0].url, token, 'POST', '/users', { username: 'ops1', password, role: 'operator' })).status < 300);
      const opsToken = (await api<{ token: string }>(replicas[1].url, undefined, 'POST', '/auth/login', { username: 'ops1', password })).body.data.token;
      let probe = 0;
      const createsTokenOnB = async () => (await api(replicas[1].url, opsToken, 'POST', '/tokens', { name: `probe-${++probe}`, role: 'viewer' })).status;
      assert.is(await createsTokenOnB(), 201, 'an operator creates a token on B');
      let changedAt = Date.now();
      assert.ok((await api(replicas[0].url, token, 'PUT', '/users/ops1/role', { role: 'viewer' })).status < 300);
      await until('B to apply the role change', async () => ((await createsTokenOnB()) === 403 ? true : undefined), 10_000);
      const roleMs = Date.now() - changedAt;
      changedAt = Date.now();
      assert.ok((await api(replicas[0].url, token, 'DELETE', '/users/ops1')).status < 300);
      await until('B to refuse the deleted user', async () => ((await api(replicas[1].url, opsToken, 'GET', '/cluster')).status === 401 ? true : undefined), 10_000);
      console.log(`  on B: a role change made on A applied after ${roleMs} ms, a deletion after ${Date.now() - changedAt} ms`);

      // The second trusts the cluster's release key (from the database): a release signed with it is
      // taken, one signed with another key is not.
      const upload = async (key: ReturnType<typeof generateReleaseKey>, version: string) => {
        const bundle = Buffer.from('a bundle');
        const manifest: ReleaseManifest = {
          format: 1, component: 'host', version, platform: 'linux', arch: 'x64', file: `opsctl-host-${version}-linux-x64.tar.gz`,
          size: bundle.length, sha256: createHash('sha256').update(bundle).digest('hex'), createdAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
        };
        const signed = signRelease(manifest, key);
        const res = await fetch(`${replicas[1].url}/api/v1/releases/${version}`, {
          method: 'POST', body: bundle,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', [RELEASE_HEADERS.manifest]: Buffer.from(signed.manifest).toString('base64'), [RELEASE_HEADERS.signature]: signed.signature, [RELEASE_HEADERS.keyId]: signed.keyId },
        });
        return (await res.json()) as { code: number; message: string };
      };
      assert.is((await upload(RELEASE_KEY, '9.0.0')).code, 0, 'signed with the cluster\'s key');
      assert.is((await upload(generateReleaseKey(), '9.0.1')).code, 3002, 'signed with a key nobody trusts');
      // A replica configured with other release keys refuses to join.
      const otherKeys = await startReplica({ ...env, OPS_RELEASES_TRUSTED_KEYS: generateReleaseKey().publicKey }).then((r) => { r.proc.kill('SIGKILL'); return 'started'; }, (err: Error) => err.message);
      assert.match(otherKeys, /releases.trustedKeys differs from the keys the cluster trusts/);

      // A replica with another cluster.key cannot open the shared secrets: it refuses to start, saying why.
      const wrong = await startReplica({ ...env, OPS_CLUSTER_KEY: randomBytes(32).toString('base64') }).then(
        (r) => { r.proc.kill('SIGKILL'); return 'started'; }, (err: Error) => err.message);
      assert.match(wrong, /sealed with another cluster.key/);

      // A replica of another version is alive: a new one refuses to join, naming both versions.
      const redis = new Redis(REDIS_URL);
      const fakeKey = `${env.OPS_REDIS_PREFIX}replica:old-replica`;
      await redis.set(fakeKey, JSON.stringify({ id: 'old-replica', version: '0.0.1' }), 'PX', 30_000);
      const refused = await startReplica(env).then((r) => { r.proc.kill('SIGKILL'); return 'started'; }, (err: Error) => err.message);
      await redis.del(fakeKey);
      redis.disconnect();
      assert.match(refused, /replica old-replica runs version 0\.0\.1 and this one \d+\.\d+\.\d+: replicas of one cluster run one version/);

      const both = await until('both replicas listed by both', async () => {
        const views = await Promise.all(replicas.map(view));
        return views.every((v) => v.replicas.length === 2 && v.replicas.filter((x) => x.leader).length === 1) ? views : undefined;
      }, 15_000);
      assert.is(both[0].mode, 'redis');
      assert.not.equal(both[0].self, both[1].self, 'each request says which replica answered');
      const leaderId = both[0].replicas.find((x) => x.leader)!.id;
      const leaderIndex = both.findIndex((v) => v.self === leaderId);
      // The leader tells its own fencing token (its epoch) once it has raised it.
      const oldToken = await until('the leader\'s token', async () => {
        const v = await view(replicas[leaderIndex]);
        return v.replicas.find((x) => x.id === v.self)?.leaderToken ?? undefined;
      }, 5000);

      // The CLI, unchanged, against either replica.
      const logged = await opsctl(home, ['login', '--server', replicas[1].url, '--username', 'admin', '--password', readInitialAdmin(replicas[0].dir).password]);
      assert.is(logged.code, 0, logged.stderr);
      const status = await opsctl(home, ['server', 'status', '--json']);
      assert.is(status.code, 0, status.stderr);
      const fromCli = JSON.parse(status.stdout) as ClusterView;
      assert.equal(fromCli.replicas.map((r) => r.id).sort(), both[0].replicas.map((r) => r.id).sort());

      // Kill -9 the leader: no lease handed back, it has to run out.
      const survivor = replicas[1 - leaderIndex];
      const killedAt = Date.now();
      replicas[leaderIndex].proc.kill('SIGKILL');
      // Leading once it holds the lease (Redis) and has raised the epoch (the database): its token is known.
      const after = await until('the survivor to lead', async () => {
        const v = await view(survivor);
        const self = v.replicas.find((x) => x.id === v.self);
        return self?.leader && self.leaderToken !== null ? v : undefined;
      }, 10_000);
      const takeoverMs = Date.now() - killedAt;
      assert.is(after.replicas.filter((x) => x.leader).length, 1, 'one leader listed, though the dead one\'s record has not expired yet');
      assert.ok(after.replicas.find((x) => x.leader)!.leaderToken! > oldToken, 'the new leader holds a larger fencing token');
      console.log(`  leader fail-over after kill -9: ${takeoverMs} ms (lease 2000 ms)`);
      await until('the dead replica to drop out of the list', async () => ((await view(survivor)).replicas.length === 1 ? true : undefined), 15_000);
    } finally {
      for (const r of replicas) { r.proc.kill('SIGKILL'); rmSync(r.dir, { recursive: true, force: true }); }
      home.remove();
      await dropDatabase(MYSQL_URL, db.name);
    }
  });
}

/** Replicas A and B on `env`, signed in, with HOSTS simulated hosts all connected to A (`simArgs` added). */
async function pairWithHostsOnA(env: NodeJS.ProcessEnv, replicas: Replica[], simDir: string, simArgs: string[]): Promise<{ a: Replica; b: Replica; token: string; sim: SimProcess }> {
  replicas.push(await startReplica(env));
  replicas.push(await startReplica(env));
  const [a, b] = replicas;
  const token = (await api<{ token: string }>(a.url, undefined, 'POST', '/auth/login', readInitialAdmin(a.dir))).body.data.token;
  const enroll = (await api<{ token: string; caHash: string }>(a.url, token, 'POST', '/enrollment-tokens', { uses: HOSTS, ttlSeconds: 600 })).body.data;
  writeFileSync(join(simDir, 'token'), enroll.token);
  const sim = startSim(['--manager', a.grpc, '--dir', simDir, '--hosts', String(HOSTS), '--token-file', join(simDir, 'token'), '--ca-hash', enroll.caHash, ...simArgs]);
  await sim.waitFor('ready', 60_000);
  return { a, b, token, sim };
}

if (MYSQL_URL && REDIS_URL) {
  test('a task submitted on replica B reaches hosts connected to replica A, and B stores and streams their results', async () => {
    const { db, env } = await clusterEnv();
    const replicas: Replica[] = [];
    const simDir = mkdtempSync(join(tmpdir(), 'opsctl-replica-sim-'));
    let sim: SimProcess | undefined;
    try {
      // Every simulated host connects to replica A.
      const pair = await pairWithHostsOnA(env, replicas, simDir, ['--report-ms', '200', '--output-lines', '2']);
      const { a, b, token } = pair;
      sim = pair.sim;
      const onB = await until('replica A to hold every host', async () => {
        const v = (await api<ClusterView>(b.url, token, 'GET', '/cluster')).body.data;
        return v.replicas.find((r) => r.id !== v.self)?.hosts === HOSTS ? v : undefined;
      }, 15_000);
      assert.is(onB.replicas.find((r) => r.id === onB.self)!.hosts, 0, 'B holds no host');

      // Submitted on B, which holds no stream: dispatched through A, results back to B.
      const created = await api<{ id: string }>(b.url, token, 'POST', '/tasks', { selector: { all: true }, script: 'echo hi', timeoutSeconds: 60 });
      assert.is(created.status, 201, created.body.message);
      // A follower on A, which does not run the task (through a balancer, a CLI may land there).
      const onA = followToDone(a.url, token, created.body.data.id);
      const res = await fetch(`${b.url}/api/v1/tasks/${created.body.data.id}/events`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(60_000) });
      let text = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        text += Buffer.from(chunk).toString();
        if (/event: done\n/.test(text)) break;
      }
      const done = JSON.parse(/event: done\ndata: (.*)\n/.exec(text)![1]) as { status: string; counts: Record<string, number> };
      assert.equal(done.counts.succeeded, HOSTS, `every run succeeded: ${JSON.stringify(done.counts)}`);
      assert.is((text.match(/event: output\n/g) ?? []).length, HOSTS * 2, 'B\'s live stream carried the output of A\'s hosts');
      const textOnA = await onA;
      assert.is((textOnA.match(/event: exit\n/g) ?? []).length, HOSTS, 'a follower on the other replica saw every run end, and done');
      // Live metrics of A's hosts reach a viewer on B: B asks the host (through A) to sample fast,
      // A publishes the samples, B's stream shows them.
      const live = await fetch(`${b.url}/api/v1/nodes/live?names=sim-00001`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) });
      let liveText = '';
      for await (const chunk of live.body as unknown as AsyncIterable<Uint8Array>) {
        liveText += Buffer.from(chunk).toString();
        if (/event: sample\n/.test(liveText)) break;
      }
      assert.match(liveText, /event: snapshot\n[\s\S]*event: sample\ndata: \{"node":"sim-00001"/);

      // Stored once, seen the same from A.
      const fromA = (await api<{ status: string; counts: Record<string, number> }>(a.url, token, 'GET', `/tasks/${created.body.data.id}`)).body.data;
      assert.is(fromA.status, 'succeeded');
    } finally {
      await sim?.stop();
      for (const r of replicas) { r.proc.kill('SIGKILL'); rmSync(r.dir, { recursive: true, force: true }); }
      rmSync(simDir, { recursive: true, force: true });
      await dropDatabase(MYSQL_URL, db.name);
    }
  });
}

/** Follows a task's event stream on `url` until `done`; the whole text. */
async function followToDone(url: string, token: string, id: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/tasks/${id}/events`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(60_000) });
  let text = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    text += Buffer.from(chunk).toString();
    if (/event: done\n/.test(text)) break;
  }
  return text;
}

/** A Redis of this test's own on `port` (restarting it must not disturb other suites). */
function startRedis(port: number): ChildProcess {
  return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
}

async function runOnB(b: Replica, token: string, script: string): Promise<{ status: string; counts: Record<string, number> }> {
  const created = await api<{ id: string }>(b.url, token, 'POST', '/tasks', { selector: { all: true }, script, timeoutSeconds: 60 });
  assert.is(created.status, 201, created.body.message);
  return until('the task to end', async () => {
    const t = (await api<{ status: string; counts: Record<string, number> }>(b.url, token, 'GET', `/tasks/${created.body.data.id}`)).body.data;
    return t.status !== 'running' ? t : undefined;
  }, 60_000);
}

if (MYSQL_URL && REDIS_URL) {
  test('Redis restarted (it keeps nothing) under two replicas with a task in flight: the task finishes, presence and leadership come back', async () => {
    const [redisPort] = await freePorts(1);
    let redis = startRedis(redisPort);
    const { db, env } = await clusterEnv();
    Object.assign(env, { OPS_REDIS_URL: `redis://127.0.0.1:${redisPort}` });
    const replicas: Replica[] = [];
    const simDir = mkdtempSync(join(tmpdir(), 'opsctl-replica-sim-'));
    let sim: SimProcess | undefined;
    try {
      await until('the test Redis', async () => { const r = new Redis(env.OPS_REDIS_URL, { lazyConnect: true }); try { await r.connect(); return (await r.ping()) === 'PONG'; } catch { return undefined; } finally { r.disconnect(); } }, 10_000);
      const pair = await pairWithHostsOnA(env, replicas, simDir, ['--report-ms', '500', '--latency', '3000-5000']);
      const { b, token } = pair;
      sim = pair.sim;
      await until('B to see A\'s hosts', async () => ((await api<ClusterView>(b.url, token, 'GET', '/cluster')).body.data.replicas.reduce((n, r) => n + r.hosts, 0) === HOSTS ? true : undefined), 15_000);

      // A task from B to A's hosts, whose runs take 3-5 s each; Redis dies 1 s in and comes back empty 2 s later.
      const inFlight = runOnB(b, token, 'true');
      await new Promise((r) => setTimeout(r, 1000));
      redis.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 2000));
      redis = startRedis(redisPort);
      const done = await inFlight;
      assert.is(done.counts.succeeded, HOSTS, `the task in flight finished whole: ${JSON.stringify(done.counts)}`);

      // Leadership and presence rebuilt from the live replicas and streams.
      await until('one leader again', async () => {
        const v = (await api<ClusterView>(b.url, token, 'GET', '/cluster')).body.data;
        return v.replicas.length === 2 && v.replicas.filter((r) => r.leader).length === 1 ? true : undefined;
      }, 20_000);
      const again = await runOnB(b, token, 'true');
      assert.is(again.counts.succeeded, HOSTS, `a new task after the restart: ${JSON.stringify(again.counts)}`);
    } finally {
      await sim?.stop();
      for (const r of replicas) { r.proc.kill('SIGKILL'); rmSync(r.dir, { recursive: true, force: true }); }
      redis.kill('SIGKILL');
      rmSync(simDir, { recursive: true, force: true });
      await dropDatabase(MYSQL_URL, db.name);
    }
  });
}

test.run();
