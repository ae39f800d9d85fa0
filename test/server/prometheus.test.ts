// GET /metrics on a real database: node samples with their labels, node and task counts, the
// manager process, a body that parses as exposition format, and who may scrape (loopback by
// default, scrapeAllow → 403, scrapeToken → 401).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DB_KINDS, makeHarness, type Harness } from './harness.js';

const TOKEN = 'scrape-token-0123456789';
// name{labels} value: label values may hold escaped quotes, backslashes and newlines.
const LINE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/;

function sample(cpuPercent: number) {
  return {
    atMs: Date.parse('2026-01-02T03:04:05Z'), cpuPercent, memUsedBytes: 1.5e9, memTotalBytes: 4e9, load1: 0.5, load5: 0.25, load15: 0.125,
    disks: [{ mount: '/', sizeBytes: 1e11, usedBytes: 2e10 }, { mount: '/var "logs"', sizeBytes: 1e10, usedBytes: 9e9 }],
    netRxBytes: 123456, netTxBytes: 654321,
  };
}

async function scrape(h: Harness, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') {
  const res = await h.app.inject({ method: 'GET', url: '/metrics', headers, remoteAddress });
  return { status: res.statusCode, type: String(res.headers['content-type']), body: res.body };
}

/** value of the line with exactly this name and labels text. */
function valueOf(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

for (const kind of DB_KINDS) {
  const test = suite<{ h: Harness; body: string }>(`prometheus exposition on ${kind}`);
  test.before(async (ctx) => {
    const h = ctx.h = await makeHarness(kind);
    const web = await h.enroll('web-1', { env: 'prod', 'app.kubernetes.io/name': 'shop\\front\n"x"' }, ['web']);
    await h.connect(web, 'web-1');
    await h.services.hostLink.onMetrics(web, sample(12.5));
    await h.services.nodes.reports.flush();
    const db = await h.enroll('db-1', { env: 'prod' });
    await h.connect(db, 'db-1', 'unhealthy');
    await h.enroll('idle-1');
    const task = await h.api('POST', '/tasks', { selector: { names: ['web-1'] }, script: 'true' });
    assert.is(task.status, 201);
    const res = await scrape(h);
    assert.is(res.status, 200);
    assert.is(res.type, 'text/plain; version=0.0.4; charset=utf-8');
    ctx.body = res.body;
  });
  test.after(async (ctx) => { await ctx.h?.close(); });

  test('every line is a comment or name{labels} value', ({ body }) => {
    assert.ok(body.endsWith('\n'));
    const lines = body.trimEnd().split('\n');
    for (const line of lines) {
      if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
      assert.match(line, LINE);
    }
  });

  test("a node's latest sample, labelled by node and its sanitised, escaped labels", ({ body }) => {
    const labels = 'node="web-1",label_env="prod",label_app_kubernetes_io_name="shop\\\\front\\n\\"x\\""';
    assert.is(valueOf(body, `opsctl_node_cpu_percent{${labels}}`), 12.5);
    assert.is(valueOf(body, `opsctl_node_memory_used_bytes{${labels}}`), 1.5e9);
    assert.is(valueOf(body, `opsctl_node_memory_total_bytes{${labels}}`), 4e9);
    assert.is(valueOf(body, `opsctl_node_load1{${labels}}`), 0.5);
    assert.is(valueOf(body, `opsctl_node_load5{${labels}}`), 0.25);
    assert.is(valueOf(body, `opsctl_node_load15{${labels}}`), 0.125);
    assert.is(valueOf(body, `opsctl_node_disk_used_bytes{${labels},mount="/"}`), 2e10);
    assert.is(valueOf(body, `opsctl_node_disk_size_bytes{${labels},mount="/var \\"logs\\""}`), 1e10);
    assert.is(valueOf(body, `opsctl_node_network_receive_bytes_total{${labels}}`), 123456);
    assert.is(valueOf(body, `opsctl_node_network_transmit_bytes_total{${labels}}`), 654321);
    assert.is(valueOf(body, `opsctl_node_sample_timestamp_seconds{${labels}}`), Date.parse('2026-01-02T03:04:05Z') / 1000);
    assert.ok(body.includes('# TYPE opsctl_node_network_receive_bytes_total counter\n'));
    // Nodes without a sample have no sample lines.
    assert.not.ok(body.includes('node="db-1"'));
    assert.not.ok(body.includes('node="idle-1"'));
  });

  test('node and task counts by status, zero included', ({ body }) => {
    assert.is(valueOf(body, 'opsctl_nodes{status="online"}'), 1);
    assert.is(valueOf(body, 'opsctl_nodes{status="degraded"}'), 1);
    assert.is(valueOf(body, 'opsctl_nodes{status="offline"}'), 1);
    assert.is(valueOf(body, 'opsctl_tasks{status="running"}'), 1);
    assert.is(valueOf(body, 'opsctl_tasks{status="failed"}'), 0);
  });

  test("the manager's own process metrics", ({ body }) => {
    assert.ok(valueOf(body, 'process_cpu_seconds_total')! > 0);
    assert.ok(valueOf(body, 'process_resident_memory_bytes')! > 0);
    assert.ok(valueOf(body, 'nodejs_heap_used_bytes')! > 0);
    const start = valueOf(body, 'process_start_time_seconds')!;
    assert.ok(start > 1.7e9 && start <= Date.now() / 1000, String(start));
  });

  test('by default only loopback may scrape, with no token', async ({ h }) => {
    assert.is((await scrape(h, {}, '::1')).status, 200);
    assert.is((await scrape(h, {}, '::ffff:127.0.0.1')).status, 200);
    const far = await scrape(h, {}, '10.1.2.3');
    assert.is(far.status, 403);
    assert.match(far.type, /^text\/plain/);
    assert.is(far.body, 'address 10.1.2.3 may not scrape /metrics (metrics.scrapeAllow)\n');
    // The peer's own address counts, not a header it sends.
    assert.is((await scrape(h, { 'x-forwarded-for': '127.0.0.1' }, '10.1.2.3')).status, 403);
  });

  test.run();

  const guarded = suite<{ h: Harness }>(`prometheus scrape access on ${kind}`);
  guarded.before(async (ctx) => {
    ctx.h = await makeHarness(kind, { config: { 'metrics.scrapeToken': TOKEN, 'metrics.scrapeAllow': ['10.0.0.0/8', '::1'] } });
  });
  guarded.after(async (ctx) => { await ctx.h?.close(); });

  guarded('an allowed address with the token scrapes', async ({ h }) => {
    const res = await scrape(h, { authorization: `Bearer ${TOKEN}` }, '10.9.8.7');
    assert.is(res.status, 200);
    assert.match(res.body, /^opsctl_nodes\{status="online"\} 0$/m);
  });

  guarded('a missing or wrong token is 401 in plain text', async ({ h }) => {
    for (const headers of [{} as Record<string, string>, { authorization: `Bearer ${TOKEN}x` }, { authorization: TOKEN }, { authorization: `Bearer ${h.token}` }]) {
      const res = await scrape(h, headers, '10.9.8.7');
      assert.is(res.status, 401, JSON.stringify(headers));
      assert.match(res.type, /^text\/plain/);
      assert.is(res.body, 'missing or wrong scrape token: send Authorization: Bearer <metrics.scrapeToken>\n');
    }
  });

  guarded('an address outside scrapeAllow is 403 even with the token; loopback is not implied', async ({ h }) => {
    for (const address of ['192.168.0.1', '127.0.0.1']) {
      const res = await scrape(h, { authorization: `Bearer ${TOKEN}` }, address);
      assert.is(res.status, 403, address);
      assert.is(res.body, `address ${address} may not scrape /metrics (metrics.scrapeAllow)\n`);
    }
  });

  guarded('the API is unaffected: /api/v1/metrics is no such route', async ({ h }) => {
    assert.is((await h.api('GET', '/metrics')).status, 404);
  });

  guarded.run();
}

const tokenOnly = suite<{ h: Harness }>('prometheus with a token and no allow list');
tokenOnly.before(async (ctx) => { ctx.h = await makeHarness('sqlite', { config: { 'metrics.scrapeToken': TOKEN } }); });
tokenOnly.after(async (ctx) => { await ctx.h?.close(); });
tokenOnly('any address presenting the token may scrape', async ({ h }) => {
  assert.is((await scrape(h, { authorization: `Bearer ${TOKEN}` }, '203.0.113.5')).status, 200);
  assert.is((await scrape(h, {}, '127.0.0.1')).status, 401);
});
tokenOnly.run();
