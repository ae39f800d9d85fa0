// The real manager for the CLI tests: runManager() in this process on SQLite in a temp dir, with
// loopback ephemeral ports and its log kept in memory. The manager logs every request at debug
// level, so a test can tell that opsctl sent nothing. Hosts are played through the manager's own
// host-link backend (the calls the gRPC gateway makes), as test/server/hostlink-backend.test.ts does.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../lib/log.js';
import type { ManagerMessage } from '../../proto/hostlink.js';
import { databaseTarget, openOrm, type Orm } from '../../server/db/orm.js';
import type { HostHello, HostSession } from '../../server/hostlink/contract.js';
import { runManager, type RunningManager } from '../../server/main.js';

export interface TestManager {
  url: string;
  /** A JWT for the first admin, as `opsctl login` would save it. */
  token: string;
  admin: { username: string; password: string };
  manager: RunningManager;
  /** How many HTTP requests the manager has answered so far. */
  requestCount(): number;
  /** GET /api/v1<path> as the admin: the API object opsctl printed should equal. */
  apiData<T>(path: string): Promise<T>;
  /** A second ORM on the manager's database, for what no API sets (labels, pinned clocks). */
  db(): Promise<Orm>;
  stop(): Promise<void>;
}

export async function startManager(flags: Record<string, unknown> = {}): Promise<TestManager> {
  const dataDir = mkdtempSync(join(tmpdir(), 'opsctl-cli-manager-'));
  const logStream = new PassThrough();
  let logged = '';
  logStream.on('data', (d) => { logged += d; });
  const manager = await runManager({
    env: {},
    flags: { dataDir, 'http.host': '127.0.0.1', 'http.port': 0, 'grpc.host': '127.0.0.1', 'grpc.port': 0, 'grpc.advertise': '', 'log.level': 'debug', ...flags },
    log: createLogger({ component: 'manager', level: 'debug', destination: logStream }),
  });
  let orm: Orm | undefined;
  try {
    const admin = manager.initialAdmin!;
    const res = await fetch(`${manager.httpUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(admin) });
    const body = (await res.json()) as { data: { token: string } | null; message: string };
    if (!body.data) throw new Error(`logging in as ${admin.username}: ${body.message}`);
    const token = body.data.token;
    return {
      url: manager.httpUrl, token, admin, manager,
      requestCount: () => logged.split('\n').filter((line) => line.includes('"msg":"request"')).length,
      async apiData<T>(path: string) {
        const r = await fetch(`${manager.httpUrl}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
        return ((await r.json()) as { data: T }).data;
      },
      async db() {
        orm ??= await openOrm(databaseTarget(manager.config.database.url, manager.config.dataDir));
        return orm;
      },
      async stop() {
        await orm?.close(true);
        await manager.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await manager.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/** A host's stream as the backend sees it; what the manager sends it is kept, not delivered. */
export class PlayedSession implements HostSession {
  readonly sent: ManagerMessage[] = [];
  constructor(readonly nodeId: string, readonly nodeName: string, readonly address: string) {}
  send(message: ManagerMessage): boolean { this.sent.push(message); return true; }
}

/** Enrolls a host the way the gateway does (token redeemed, certificate recorded); returns its id. */
export async function enrollHost(m: TestManager, name: string, address: string, certificateExpiresAt: Date): Promise<string> {
  const r = await fetch(`${m.url}/api/v1/enrollment-tokens`, {
    method: 'POST', headers: { authorization: `Bearer ${m.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ uses: 1, ttlSeconds: 600 }),
  });
  const { data } = (await r.json()) as { data: { token: string } };
  const hostLink = m.manager.services.hostLink;
  const { nodeId } = await hostLink.redeemEnrollmentToken({ token: data.token, nodeName: name, address, keyFingerprint: '0'.repeat(64) });
  await hostLink.recordCertificate(nodeId, { fingerprint: 'f'.repeat(64), serial: '01', notAfter: certificateExpiresAt, keyFingerprint: '0'.repeat(64) });
  return nodeId;
}

export async function connectHost(m: TestManager, nodeId: string, name: string, address: string, hello: HostHello): Promise<PlayedSession> {
  const session = new PlayedSession(nodeId, name, address);
  await m.manager.services.hostLink.onConnected(session, hello);
  return session;
}
