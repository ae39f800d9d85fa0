// Events and alerts on a real manager and database: each built-in rule raises and clears its event
// (nodes driven offline by the sweeper, metrics and agent status through the host link backend),
// an active event is never duplicated, GET /events, and webhooks delivered to real receivers on
// loopback: signed, retried after a 500, timed out when the receiver never answers — without
// holding up the event loop or the other receivers — and refused in bad configuration.
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../../lib/config.js';
import { createLogger } from '../../lib/log.js';
import type { EventDelivery, EventView } from '../../proto/rest/events.js';
import { loadManagerConfig } from '../../server/config.js';
import { OpsEvent } from '../../server/modules/events/event.entity.js';
import { WebhookSender } from '../../server/modules/events/webhooks.js';
import { DB_KINDS, makeHarness, until, type Harness } from './harness.js';

const SECRET = 'webhook-secret-0123456789';
const sample = (over: { memUsedBytes?: number; diskUsedBytes?: number } = {}) => ({
  atMs: Date.now(), cpuPercent: 10, memUsedBytes: over.memUsedBytes ?? 1e9, memTotalBytes: 4e9, load1: 0.1, load5: 0.1, load15: 0.1,
  disks: [{ mount: '/', sizeBytes: 1e11, usedBytes: over.diskUsedBytes ?? 5e10 }, { mount: '/boot', sizeBytes: 1e9, usedBytes: 1e8 }], netRxBytes: 0, netTxBytes: 0,
});
const later = (seconds: number) => new Date(Date.now() + seconds * 1000);

async function events(h: Harness, subject: string, kind?: string): Promise<OpsEvent[]> {
  return h.orm.em.fork().find(OpsEvent, { subject, ...(kind ? { kind } : {}) }, { orderBy: { raisedAt: 'asc' } });
}
const active = async (h: Harness, subject: string) => (await events(h, subject)).filter((e) => e.clearedAt === null).map((e) => e.kind).sort();

for (const kind of DB_KINDS) {
  const rules = suite<{ h: Harness }>(`alert rules on ${kind}`);
  rules.before(async (ctx) => { ctx.h = await makeHarness(kind); });
  rules.after(async (ctx) => { await ctx.h?.close(); });

  rules('node.offline: raised once the node is offline longer than alerts.offlineAfterSeconds, cleared when it is back', async ({ h }) => {
    const id = await h.enroll('off-1');
    await h.connect(id, 'off-1');
    await h.services.alertRules.evaluate();
    assert.equal(await active(h, 'off-1'), []);

    assert.is(await h.services.nodes.sweepOffline(later(100)), 1);
    await h.services.alertRules.evaluate(later(100));
    assert.equal(await active(h, 'off-1'), [], 'offline 100 s < 120 s: no event yet');
    await h.services.alertRules.evaluate(later(130));
    await h.services.alertRules.evaluate(later(150));
    assert.equal(await active(h, 'off-1'), ['node.offline']);
    const [event] = await events(h, 'off-1');
    assert.is(event.severity, 'critical');
    assert.match(event.message, /off-1 has been offline for 1[0-9]{2} s/);

    await h.connect(id, 'off-1');
    await h.services.alertRules.evaluate();
    assert.equal(await active(h, 'off-1'), []);
    assert.is((await events(h, 'off-1')).length, 1);
  });

  rules('node.disk_full: a mount over alerts.diskPercent raises, back under it clears', async ({ h }) => {
    const id = await h.enroll('disk-1');
    await h.connect(id, 'disk-1');
    await h.services.hostLink.onMetrics(id, sample({ diskUsedBytes: 9.5e10 }));
    await h.services.nodes.reports.flush();
    await h.services.alertRules.evaluate();
    const [event] = await events(h, 'disk-1', 'node.disk_full');
    assert.ok(event && event.clearedAt === null);
    assert.equal(event.details.disks, [{ mount: '/', usedPercent: 95 }]);
    assert.match(event.message, /\/ 95 % used \(over 90 %\)/);

    await h.services.hostLink.onMetrics(id, sample({ diskUsedBytes: 9e10 }));
    await h.services.nodes.reports.flush();
    await h.services.alertRules.evaluate();
    assert.equal(await active(h, 'disk-1'), [], 'exactly 90 % is not over 90 %');
  });

  rules('node.memory_high: raised only after alerts.memoryForSeconds above alerts.memoryPercent, cleared when it drops', async ({ h }) => {
    const id = await h.enroll('mem-1');
    await h.connect(id, 'mem-1');
    await h.services.hostLink.onMetrics(id, sample({ memUsedBytes: 3.9e9 }));
    await h.services.nodes.reports.flush();
    await h.services.alertRules.evaluate(later(0));
    await h.services.alertRules.evaluate(later(299));
    assert.equal(await active(h, 'mem-1'), [], 'high for less than 300 s');
    await h.services.alertRules.evaluate(later(301));
    assert.equal(await active(h, 'mem-1'), ['node.memory_high']);
    const [event] = await events(h, 'mem-1');
    assert.is(event.severity, 'warning');
    assert.is(event.details.usedPercent, 97.5);

    await h.services.hostLink.onMetrics(id, sample({ memUsedBytes: 2e9 }));
    await h.services.nodes.reports.flush();
    await h.services.alertRules.evaluate(later(320));
    assert.equal(await active(h, 'mem-1'), []);

    // A dip below the threshold starts the wait again.
    await h.services.hostLink.onMetrics(id, sample({ memUsedBytes: 3.9e9 }));
    await h.services.nodes.reports.flush();
    await h.services.alertRules.evaluate(later(400));
    await h.services.alertRules.evaluate(later(650));
    assert.equal(await active(h, 'mem-1'), []);
  });

  rules('agent.crash_loop: raised while hostd reports agentStatus crash-loop, cleared when healthy again', async ({ h }) => {
    const id = await h.enroll('crash-1');
    await h.connect(id, 'crash-1');
    await h.services.hostLink.onHeartbeat(id, 'crash-loop', '0.1.0');
    await h.services.nodes.reports.flush();
    await h.services.alertRules.evaluate();
    assert.equal(await active(h, 'crash-1'), ['agent.crash_loop']);
    assert.is((await h.api<{ status: string }>('GET', '/nodes/crash-1')).body.data.status, 'degraded');
    await h.services.hostLink.onHeartbeat(id, 'healthy', '0.1.0');
    await h.services.nodes.reports.flush();
    await h.services.alertRules.evaluate();
    assert.equal(await active(h, 'crash-1'), []);
  });

  rules('agent.over_limit and agent.incompatible: raised while hostd reports over-limit or incompatible, cleared after', async ({ h }) => {
    const id = await h.enroll('limit-1');
    await h.connect(id, 'limit-1');
    for (const [status, kind] of [['over-limit', 'agent.over_limit'], ['incompatible', 'agent.incompatible']] as const) {
      await h.services.hostLink.onHeartbeat(id, status, '0.1.0');
      await h.services.nodes.reports.flush();
      await h.services.alertRules.evaluate();
      assert.equal(await active(h, 'limit-1'), [kind]);
      await h.services.hostLink.onHeartbeat(id, 'healthy', '0.1.0');
      await h.services.nodes.reports.flush();
      await h.services.alertRules.evaluate();
      assert.equal(await active(h, 'limit-1'), []);
    }
  });

  rules('raising an active event does not duplicate it, also when raises race; a raise after a clear is a new event', async ({ h }) => {
    const raised = await Promise.all(Array.from({ length: 5 }, () => h.services.events.raise('test.kind', 'dup-1', { severity: 'warning', message: 'once' })));
    assert.is(raised.filter((e) => e !== null).length, 1);
    assert.equal(await active(h, 'dup-1'), ['test.kind']);
    assert.ok(await h.services.events.clear('test.kind', 'dup-1'));
    assert.is(await h.services.events.clear('test.kind', 'dup-1'), null, 'nothing active to clear');
    await h.services.events.raise('test.kind', 'dup-1', { severity: 'critical', message: 'again' });
    const all = await events(h, 'dup-1');
    assert.is(all.length, 2);
    assert.ok(all[0].clearedAt instanceof Date);
    assert.is(all[1].clearedAt, null);
  });

  rules('active events survive a restart; the new manager clears them when the condition is gone', async (ctx) => {
    const id = await ctx.h.enroll('restart-1');
    await ctx.h.connect(id, 'restart-1');
    await ctx.h.services.hostLink.onHeartbeat(id, 'crash-loop', '0.1.0');
    await ctx.h.services.nodes.reports.flush();
    await ctx.h.services.alertRules.evaluate();
    ctx.h = await ctx.h.restart();
    const h = ctx.h;
    await h.services.alertRules.evaluate();
    assert.equal(await active(h, 'restart-1'), ['agent.crash_loop'], 'still active, not raised twice');
    assert.is((await events(h, 'restart-1')).length, 1);
    await h.connect(id, 'restart-1');
    await h.services.alertRules.evaluate();
    assert.equal(await active(h, 'restart-1'), []);
  });

  rules('GET /events: newest first, active=true, limit; every role reads; bad queries refused', async ({ h }) => {
    await h.services.events.raise('test.api', 'api-1', { severity: 'warning', message: 'first', details: { n: 1 } });
    const raisedAt = Date.now();
    await until('the next millisecond (newest first needs distinct times)', () => Date.now() > raisedAt);
    await h.services.events.raise('test.api', 'api-2', { severity: 'critical', message: 'second' });
    await h.services.events.clear('test.api', 'api-1');
    const viewer = await h.user('events-viewer', 'viewer');
    const all = await h.api<EventView[]>('GET', '/events', undefined, viewer);
    assert.is(all.status, 200, JSON.stringify(all.body));
    assert.is(all.body.data[0].subject, 'api-2');
    const first = all.body.data.find((e) => e.subject === 'api-1')!;
    assert.equal(first.details, { n: 1 });
    assert.ok(first.clearedAt);
    const act = await h.api<EventView[]>('GET', '/events?active=true');
    assert.ok(act.body.data.every((e) => e.clearedAt === null));
    assert.ok(act.body.data.some((e) => e.subject === 'api-2'));
    assert.ok(!act.body.data.some((e) => e.subject === 'api-1'));
    assert.is((await h.api<EventView[]>('GET', '/events?limit=1')).body.data.length, 1);
    for (const q of ['limit=0', 'limit=1001', 'limit=x', 'active=maybe', 'colour=red']) {
      const r = await h.api('GET', `/events?${q}`);
      assert.is(r.status, 400, q);
      assert.is(r.body.code, 1001, q);
    }
    assert.is((await h.api('GET', '/events', undefined, null)).status, 401);
  });

  rules('retention deletes events cleared before the cutoff, in batches; active and recent ones stay', async ({ h }) => {
    const em = h.orm.em.fork();
    const day = 86_400_000;
    const row = (subject: string, clearedDaysAgo: number | null) => em.create(OpsEvent, {
      id: crypto.randomUUID(), kind: 'node.offline', subject, severity: 'critical', message: 'm', details: {},
      raisedAt: new Date(Date.now() - 200 * day), clearedAt: clearedDaysAgo === null ? null : new Date(Date.now() - clearedDaysAgo * day),
    });
    for (let i = 0; i < 5; i++) row(`ret-old-${i}`, 100);
    row('ret-recent', 10);
    row('ret-active', null);
    await em.flush();
    const deleted = await h.services.events.pruneCleared(new Date(Date.now() - 90 * day), 2);
    assert.is(deleted, 5);
    const left = (await h.orm.em.fork().find(OpsEvent, { subject: { $like: 'ret-%' } })).map((e) => e.subject).sort();
    assert.equal(left, ['ret-active', 'ret-recent']);
  });

  rules.run();
}

// ---- webhooks: real receivers on loopback
interface Received { path: string; headers: IncomingMessage['headers']; body: string }

async function receiver(handle: (path: string, n: number, res: ServerResponse) => void): Promise<{ server: Server; url: string; got: Received[] }> {
  const got: Received[] = [];
  const counts = new Map<string, number>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const path = req.url ?? '';
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      got.push({ path, headers: req.headers, body });
      handle(path, n, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got };
}

const hooks = suite<{ h: Harness; rx: Awaited<ReturnType<typeof receiver>> }>('webhooks');
hooks.before(async (ctx) => {
  ctx.rx = await receiver((path, n, res) => {
    if (path === '/hang') return; // never answers
    res.statusCode = path === '/flaky' && n === 1 ? 500 : 200;
    res.end('ok');
  });
  ctx.h = await makeHarness('sqlite', {
    config: {
      'alerts.webhooks': ['/ok', '/flaky', '/hang'].map((p) => ({ url: `${ctx.rx.url}${p}`, secret: SECRET })),
      'alerts.webhookRetryMs': 20, 'alerts.webhookTimeoutMs': 300,
    },
  });
});
hooks.after(async (ctx) => {
  await ctx.h?.close();
  ctx.rx?.server.closeAllConnections();
  await new Promise((r) => ctx.rx?.server.close(r));
});

hooks('each raise and clear is POSTed, signed; a 500 is retried; a receiver that never answers times out without holding anything up', async ({ h, rx }) => {
  let ticks = 0;
  const ticker = setInterval(() => { ticks++; }, 5);
  try {
    const raised = await h.services.events.raise('node.offline', 'hook-1', { severity: 'critical', message: 'hook-1 is offline' });
    assert.ok(raised);
    const ok = await until('the raise delivered', () => rx.got.filter((g) => g.path === '/ok').length >= 1 && rx.got.filter((g) => g.path === '/ok'));
    const delivered = ok[0];
    assert.is(delivered.headers['content-type'], 'application/json');
    assert.match(String(delivered.headers['x-opsctl-delivery']), /^[0-9a-f-]{36}$/);
    const expected = `sha256=${createHmac('sha256', SECRET).update(delivered.body).digest('hex')}`;
    assert.is(delivered.headers['x-opsctl-signature'], expected);
    const payload = JSON.parse(delivered.body) as EventDelivery;
    assert.is(payload.action, 'raised');
    assert.equal(payload.event, raised);

    // The first answer from /flaky was a 500: the same delivery comes again and is taken.
    const flaky = await until('the retry', () => { const f = rx.got.filter((g) => g.path === '/flaky'); return f.length >= 2 && f; });
    assert.is(flaky[0].headers['x-opsctl-delivery'], flaky[1].headers['x-opsctl-delivery']);
    assert.is(flaky[0].body, flaky[1].body);

    // /hang holds its request open; meanwhile the clear still reaches /ok, and timers keep firing.
    const ticksAtHang = await until('the hanging receiver asked', () => rx.got.some((g) => g.path === '/hang') && ticks);
    await h.services.events.clear('node.offline', 'hook-1');
    const cleared = await until('the clear delivered', () => rx.got.find((g) => g.path === '/ok' && (JSON.parse(g.body) as EventDelivery).action === 'cleared'));
    assert.is((JSON.parse(cleared.body) as EventDelivery).event.clearedAt !== null, true);
    // Each of the 3 attempts at /hang ended by the client's timeout, then the clear's first attempt arrives.
    await until('all attempts at /hang', () => rx.got.filter((g) => g.path === '/hang').length >= 4);
    assert.ok(ticks > ticksAtHang, 'the event loop kept running while /hang held its requests');
    const hang = rx.got.filter((g) => g.path === '/hang');
    assert.is(new Set(hang.slice(0, 3).map((g) => g.headers['x-opsctl-delivery'])).size, 1, 'the same delivery, retried');
    assert.is((JSON.parse(hang[3].body) as EventDelivery).action, 'cleared');
    assert.match(h.logText(), /webhook delivery failed; giving up/);
    assert.match(h.logText(), /no answer within 300 ms/);
  } finally {
    clearInterval(ticker);
  }
});

hooks('a full queue drops its oldest delivery with a log line', async ({ rx }) => {
  const logStream = new PassThrough();
  let logged = '';
  logStream.on('data', (d) => { logged += d; });
  const sender = new WebhookSender([{ url: `${rx.url}/hang`, secret: SECRET }], { attempts: 1, retryMs: 10, timeoutMs: 200, queueSize: 1 },
    createLogger({ component: 'test', level: 'debug', destination: logStream }));
  try {
    const event = { id: 'x', kind: 'k', subject: 's', severity: 'warning' as const, message: 'm', raisedAt: new Date().toISOString(), clearedAt: null, details: {} };
    for (let i = 0; i < 3; i++) sender.send({ event: { ...event, id: `e${i}` }, action: 'raised' });
    assert.match(logged, /webhook queue full: dropped the oldest delivery/);
  } finally {
    sender.stop();
  }
});

hooks('bad alerts configuration is refused, naming the option', () => {
  const refused: [Record<string, unknown>, RegExp][] = [
    [{ 'alerts.webhooks': [{ url: 'ftp://example.com/hook', secret: SECRET }] }, /alerts\.webhooks\[0\]\.url must be an http:\/\/ or https:\/\/ URL, got "ftp:\/\/example.com\/hook"/],
    [{ 'alerts.webhooks': [{ url: 'not a url', secret: SECRET }] }, /alerts\.webhooks\[0\]\.url must be an http/],
    [{ 'alerts.webhooks': [{ url: 'https://example.com/hook' }] }, /alerts\.webhooks\[0\]\.secret must be a string of at least 16 characters/],
    [{ 'alerts.webhooks': [{ url: 'https://example.com/hook', secret: 'short' }] }, /secret must be a string of at least 16/],
    [{ 'alerts.webhooks': [{ url: 'https://example.com/hook', secret: SECRET, method: 'PUT' }] }, /alerts\.webhooks\[0\] has unknown option "method"/],
    [{ 'alerts.webhooks': 'https://example.com/hook' }, /alerts\.webhooks\[0\] must be a mapping \{url, secret\}/],
    [{ 'alerts.diskPercent': 150 }, /alerts\.diskPercent must be a percentage above 0 and at most 100, got 150/],
    [{ 'alerts.memoryPercent': 0 }, /alerts\.memoryPercent must be a percentage/],
    [{ 'alerts.offlineAfterSeconds': -1 }, /alerts\.offlineAfterSeconds must be a positive integer, got -1/],
    [{ 'alerts.webhookTimeoutMs': 0 }, /alerts\.webhookTimeoutMs must be a positive integer/],
  ];
  for (const [flags, message] of refused) {
    assert.throws(() => loadManagerConfig({ env: {}, flags }), (err: Error) => err instanceof ConfigError && message.test(err.message), JSON.stringify(flags));
  }
  const dir = mkdtempSync(join(tmpdir(), 'ops-alerts-config-'));
  try {
    const file = join(dir, 'manager.yaml');
    writeFileSync(file, `alerts:\n  diskPercent: 80\n  webhooks:\n    - url: https://hooks.example.com/opsctl\n      secret: ${SECRET}\n`);
    const c = loadManagerConfig({ env: {}, configFile: file });
    assert.is(c.alerts.diskPercent, 80);
    assert.equal(c.alerts.webhooks, [{ url: 'https://hooks.example.com/opsctl', secret: SECRET }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

hooks.run();
