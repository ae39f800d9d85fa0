// A manager without the gRPC gateway, on a real database: SQLite in a temp dir, or a scratch
// MariaDB/MySQL database when OPS_TEST_MYSQL_URL is set. Hosts are played by FakeSession objects
// registered in an in-test HostSessions, driving the real HostLinkBackend.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { createLogger } from '../../lib/log.js';
import type { Dispatch, ManagerMessage } from '../../proto/hostlink.js';
import { buildApp } from '../../server/app.js';
import { loadManagerConfig, type ManagerConfig } from '../../server/config.js';
import { createScratchDatabase, dropDatabase } from '../../server/db/mysql-admin.js';
import { databaseTarget, openOrm, runMigrations, type Orm } from '../../server/db/orm.js';
import type { HostHello, HostSession, HostSessions } from '../../server/hostlink/contract.js';
import type { Leader } from '../../server/leadership/leader.js';
import type { ScheduleAnnouncer } from '../../server/modules/schedules/service.js';
import { createServices, type ManagerServices } from '../../server/services.js';

export type DbKind = 'sqlite' | 'mysql';
export const MYSQL_URL = process.env.OPS_TEST_MYSQL_URL ?? '';
export const DB_KINDS: DbKind[] = MYSQL_URL ? ['sqlite', 'mysql'] : ['sqlite'];
export const CA_HASH = 'ab'.repeat(32);

export class FakeSession implements HostSession {
  readonly sent: ManagerMessage[] = [];
  open = true;
  /** Why the manager ended this stream, once it did. */
  closedBecause?: string;
  /** Plays a hostd that takes acks with its dispatches (Hello.takes_dispatch_acks). */
  takesDispatchAcks = false;
  constructor(readonly nodeId: string, readonly nodeName: string, readonly address = '127.0.0.1:50000') {}
  send(message: ManagerMessage): boolean {
    if (!this.open) return false;
    this.sent.push(message);
    return true;
  }
  get dispatches(): Dispatch[] { return this.sent.flatMap((m) => (m.dispatch ? [m.dispatch] : [])); }
  get cancels(): string[] { return this.sent.flatMap((m) => (m.cancel?.runId ? [m.cancel.runId] : [])); }
}

export class FakeSessions implements HostSessions {
  readonly byNode = new Map<string, FakeSession>();
  get(nodeId: string) { return this.byNode.get(nodeId); }
  dispatch(nodeId: string, dispatch: Dispatch) { return this.byNode.get(nodeId)?.send({ dispatch }) ?? false; }
  cancel(nodeId: string, runId: string) { return this.byNode.get(nodeId)?.send({ cancel: { runId } }) ?? false; }
  disconnect(nodeId: string, reason: string) {
    const session = this.byNode.get(nodeId);
    if (!session) return false;
    session.open = false;
    session.closedBecause = reason;
    this.byNode.delete(nodeId);
    return true;
  }
  get size() { return this.byNode.size; }
}

export interface Harness {
  kind: DbKind;
  config: ManagerConfig;
  orm: Orm;
  app: FastifyInstance;
  services: ManagerServices;
  sessions: FakeSessions;
  admin: { username: string; password: string };
  token: string;
  /** Everything logged, for checks that secrets never reach the log. */
  logText(): string;
  /** Creates the static groups among `names` that do not exist yet (as the admin). */
  ensureGroups(names: readonly string[]): Promise<void>;
  /** Enrolls a node (token → backend), writes its operator labels, adds it to static groups (created if need be); returns its id. */
  enroll(name: string, labels?: Record<string, string>, groups?: string[]): Promise<string>;
  /** Connects a fake host stream for the node through the backend. */
  connect(nodeId: string, name: string, agentStatus?: string): Promise<FakeSession>;
  api<T = unknown>(method: string, url: string, body?: unknown, token?: string | null): Promise<{ status: number; body: { code: number; message: string; data: T } }>;
  /** Creates a user (as the admin) and signs in as them; returns their access token. */
  user(username: string, role: string, scopeGroups?: string[]): Promise<string>;
  /** POST /auth/login from a given source address. */
  login(username: string, password: string, remoteAddress?: string): Promise<{ status: number; headers: Record<string, unknown>; body: { code: number; message: string; data: { token: string } } }>;
  /** Stops this manager and starts another on the same data dir and database (this one is done). */
  restart(): Promise<Harness>;
  close(): Promise<void>;
}

/** The password the harness gives every user it creates. */
export const TEST_PASSWORD = 'correct horse battery staple';

export function hello(name: string, agentStatus = 'healthy'): HostHello {
  return {
    facts: { hostname: name, os: 'Debian GNU/Linux 12', platform: 'linux', kernel: '6.1.0', arch: 'x64', cpuModel: 'Test CPU', cpus: 2, memoryBytes: 4e9, ips: ['10.0.0.5'] },
    hostdVersion: '0.1.0', agentVersion: '0.1.0', agentStatus,
    knownRuns: null,
    capabilities: { taskKinds: ['script', 'file'], interpreters: ['sh', 'python'], serviceManager: 'sysv', plugins: ['http-probe@1.0.0'] },
  };
}

export interface HarnessOptions {
  tasks?: { timeoutGraceMs?: number; outputFlushMs?: number; ackDelayMs?: number; ackHoldMs?: number };
  /** Who leads; default: always this manager. */
  leader?: Leader;
  metrics?: { deleteBatch?: number; pruneEveryMs?: number };
  /** Live sampling (server/modules/nodes/live-sampling.ts). */
  nodes?: { ttlSeconds?: number; releaseDelayMs?: number; tickMs?: number };
  /** Heartbeat and metrics write-behind (server/modules/nodes/report-writer.ts); default: 20 ms batches. */
  reports?: { flushMs?: number; maxSamples?: number };
  /** Where the web UI's build is (server/modules/web-ui); default dist/web. */
  webUi?: { dir?: string };
  /** How often the leader drives rollouts (server/modules/releases/rollouts.ts). */
  rollouts?: { tickMs?: number };
  /** Schedules (server/modules/schedules/service.ts): what replicas set (announcer, resync, hand-over). */
  schedules?: { announcer?: ScheduleAnnouncer; resyncMs?: number; handOverMs?: number };
  config?: Record<string, unknown>;
}

/** What a restarted harness keeps from the one before. */
interface Kept { dataDir: string; scratch?: { url: string; name: string }; admin: { username: string; password: string } }

export async function makeHarness(kind: DbKind, opts: HarnessOptions = {}, kept?: Kept): Promise<Harness> {
  const dataDir = kept?.dataDir ?? mkdtempSync(join(tmpdir(), 'ops-server-test-'));
  let scratch = kept?.scratch;
  if (kind === 'mysql' && !kept) scratch = await createScratchDatabase(MYSQL_URL, 'opsctl_test');
  const config = loadManagerConfig({
    env: {},
    flags: { dataDir, 'database.url': scratch?.url ?? '', 'grpc.advertise': '127.0.0.1:8441', 'log.level': 'debug', ...opts.config },
  });
  const logStream = new PassThrough();
  let logged = '';
  logStream.on('data', (d) => { logged += d; });
  const log = createLogger({ component: 'manager', level: 'debug', destination: logStream });
  const orm = await openOrm(databaseTarget(config.database.url, config.dataDir), log);
  await runMigrations(orm);
  const sessions = new FakeSessions();
  const services = await createServices({ config, orm, log, sessions, caHash: () => CA_HASH, leader: opts.leader, overrides: { tasks: opts.tasks, metrics: opts.metrics, nodes: opts.nodes, reports: { flushMs: 20, ...opts.reports }, 'web-ui': opts.webUi, rollouts: opts.rollouts, schedules: opts.schedules } });
  const admin = kept?.admin ?? (await services.users.ensureAdmin(config.dataDir))!;
  await services.start();
  const app = await buildApp({ config, orm, log, services });

  const api: Harness['api'] = async (method, url, body, token) => {
    const res = await app.inject({
      method: method as 'GET', url: `/api/v1${url}`,
      headers: token === null ? {} : { authorization: `Bearer ${token ?? harness.token}` },
      ...(body !== undefined ? { payload: body as object } : {}),
    });
    return { status: res.statusCode, body: res.json() };
  };

  const harness: Harness = {
    kind, config, orm, app, services, sessions, admin, token: '',
    logText: () => logged,
    api,
    async enroll(name, labels = {}, groups = []) {
      const created = await api<{ token: string }>('POST', '/enrollment-tokens', { uses: 1, ttlSeconds: 600 });
      const { nodeId } = await services.hostLink.redeemEnrollmentToken({ token: created.body.data.token, nodeName: name, address: '127.0.0.1', keyFingerprint: '0'.repeat(64) });
      await services.hostLink.recordCertificate(nodeId, { fingerprint: 'f'.repeat(64), serial: '01', notAfter: new Date(Date.now() + 86400e3), keyFingerprint: '0'.repeat(64) });
      // Written as they are (not through the API, which checks them): some tests need labels the rules refuse.
      if (Object.keys(labels).length) {
        const { Node } = await import('../../server/modules/nodes/node.entity.js');
        await orm.em.fork().nativeUpdate(Node, { id: nodeId }, { labels });
      }
      await harness.ensureGroups(groups);
      for (const group of groups) {
        const res = await api('PATCH', `/groups/${group}`, { add: [name] });
        if (res.status !== 200) throw new Error(`adding ${name} to group ${group}: ${JSON.stringify(res.body)}`);
      }
      return nodeId;
    },
    async ensureGroups(names) {
      for (const name of names) {
        if ((await api('GET', `/groups/${name}`)).status === 200) continue;
        const res = await api('POST', '/groups', { name });
        if (res.status !== 201) throw new Error(`creating group ${name}: ${JSON.stringify(res.body)}`);
      }
    },
    async connect(nodeId, name, agentStatus = 'healthy') {
      const session = new FakeSession(nodeId, name);
      sessions.byNode.set(nodeId, session);
      await services.hostLink.onConnected(session, hello(name, agentStatus));
      services.hostLink.onWelcomed?.(session);
      return session;
    },
    async user(username, role, scopeGroups) {
      await harness.ensureGroups(scopeGroups ?? []);
      const created = await api('POST', '/users', { username, role, password: TEST_PASSWORD, ...(scopeGroups ? { scopeGroups } : {}) });
      if (created.status !== 201) throw new Error(`creating user ${username}: ${JSON.stringify(created.body)}`);
      const login = await harness.login(username, TEST_PASSWORD);
      if (login.status !== 200) throw new Error(`login as ${username}: ${JSON.stringify(login.body)}`);
      return login.body.data.token;
    },
    async login(username, password, remoteAddress = '127.0.0.1') {
      const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password }, remoteAddress });
      return { status: res.statusCode, headers: res.headers, body: res.json() };
    },
    async restart() {
      await app.close();
      await services.stop();
      await orm.close(true);
      return makeHarness(kind, opts, { dataDir, scratch, admin });
    },
    async close() {
      await app.close();
      await services.stop();
      await orm.close(true);
      if (scratch) await dropDatabase(MYSQL_URL, scratch.name);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  const login = await api<{ token: string }>('POST', '/auth/login', admin, null);
  if (login.status !== 200) throw new Error(`harness login failed: ${JSON.stringify(login.body)}`);
  harness.token = login.body.data.token;
  return harness;
}

/** Polls until `probe` returns something truthy (no timing assertions: only a generous cap). */
export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
