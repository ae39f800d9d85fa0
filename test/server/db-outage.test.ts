// The database briefly unreachable under a running manager (MySQL/MariaDB through a TCP proxy this
// test cuts and restores): REST answers 503 with the envelope while it is away, and works again
// when it is back, without a restart. Needs OPS_TEST_MYSQL_URL.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createScratchDatabase, dropDatabase } from '../../server/db/mysql-admin.js';
import { startManager, type TestManager } from '../cli/manager.js';
import { until } from './harness.js';

const MYSQL_URL = process.env.OPS_TEST_MYSQL_URL ?? '';

/** A TCP proxy to MariaDB that can be cut (every connection dropped, new ones refused) and restored. */
class CuttableProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;
  constructor(private readonly target: { host: string; port: number }) {}

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); s.on('error', () => s.destroy()); }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server!.address() as { port: number }).port;
  }

  async cut(): Promise<void> {
    await new Promise<void>((resolve) => { this.server!.close(() => resolve()); for (const s of this.sockets) s.destroy(); });
  }
}

if (!MYSQL_URL) {
  test('database outage tests need OPS_TEST_MYSQL_URL (skipped)', () => undefined);
} else {
  test('database away: REST answers 503 with the envelope; back: it answers again without a restart', async () => {
    const db = await createScratchDatabase(MYSQL_URL, 'opsctl_outage');
    const real = new URL(db.url);
    const proxy = new CuttableProxy({ host: real.hostname, port: Number(real.port || 3306) });
    await proxy.open();
    const viaProxy = new URL(db.url);
    viaProxy.port = String(proxy.port);
    let m: TestManager | undefined;
    try {
      m = await startManager({ 'database.url': viaProxy.toString(), 'log.level': 'error' });
      const get = () => fetch(`${m!.url}/api/v1/nodes`, { headers: { authorization: `Bearer ${m!.token}` } });
      assert.is((await get()).status, 200);

      await proxy.cut();
      const away = await until('a 503', async () => {
        const res = await get();
        return res.status === 503 ? (await res.json()) as { code: number; message: string; data: unknown } : undefined;
      }, 30_000);
      assert.is(away.code, 5003);
      assert.match(away.message, /database cannot be reached/);
      assert.is(away.data, null);
      // A mutation too: refused whole, not half done.
      const post = await fetch(`${m.url}/api/v1/enrollment-tokens`, {
        method: 'POST', headers: { authorization: `Bearer ${m.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ uses: 1, ttlSeconds: 60 }),
      });
      assert.is(post.status, 503);

      await proxy.open();
      await until('answers again', async () => ((await get()).status === 200 ? true : undefined), 30_000);
    } finally {
      await m?.stop().catch(() => undefined);
      await proxy.cut().catch(() => undefined);
      await dropDatabase(MYSQL_URL, db.name);
    }
  });
}

test.run();
