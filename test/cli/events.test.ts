// opsctl events against the real manager: events the manager raised and cleared, newest first,
// --active, --limit, --json equal to the API, and bad flags refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { EventView } from '../../proto/rest/events.js';
import { startManager, type TestManager } from './manager.js';
import { ConfigHome, ensureBuilt, opsctl, type RunOptions } from './run-opsctl.js';

const home = new ConfigHome();
let m: TestManager;
const run = (args: string[], opts: RunOptions = {}) => opsctl(home, args, { ...opts, env: { OPSCTL_SERVER: m.url, OPSCTL_TOKEN: m.token, ...opts.env } });
/** severity, kind, subject, cleared of each piped row. */
const rows = (tsv: string) => tsv.trimEnd().split('\n').filter(Boolean).map((l) => l.split('\t')).map((c) => [c[1], c[2], c[3], c[4] === 'active' ? 'active' : 'cleared']);

/** Waits for the clock's next millisecond, so events raised one after the other sort in that order. */
async function nextMillisecond(): Promise<void> {
  const now = Date.now();
  while (Date.now() === now) await new Promise((r) => setImmediate(r));
}

test.before(async () => {
  ensureBuilt();
  m = await startManager();
  const events = m.manager.services.events;
  await events.raise('node.offline', 'web-1', { severity: 'critical', message: 'web-1 has been offline for 130 s' });
  await nextMillisecond();
  await events.raise('node.memory_high', 'db-1', { severity: 'warning', message: 'db-1: memory 97 % used', details: { usedPercent: 97 } });
  await events.clear('node.offline', 'web-1');
  await nextMillisecond();
  await events.raise('node.disk_full', 'web-1', { severity: 'critical', message: 'web-1: / 95 % used' });
});
test.after(async () => {
  await m?.stop();
  home.remove();
});

test('events ls piped: newest first, active or when cleared; `events` is `events ls`', async () => {
  const r = await run(['events', 'ls']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(rows(r.stdout), [
    ['critical', 'node.disk_full', 'web-1', 'active'],
    ['warning', 'node.memory_high', 'db-1', 'active'],
    ['critical', 'node.offline', 'web-1', 'cleared'],
  ]);
  assert.is((await run(['events'])).stdout, r.stdout);
  const tty = await run(['events'], { tty: true });
  assert.match(tty.stdout, /^RAISED\s+SEVERITY\s+KIND\s+SUBJECT\s+CLEARED\s+MESSAGE\n/);
  assert.match(tty.stdout, /critical\s+node\.disk_full\s+web-1\s+active\s+web-1: \/ 95 % used\n/);
});

test('events ls --active and --limit', async () => {
  assert.equal(rows((await run(['events', 'ls', '--active'])).stdout).map((x) => x[1]), ['node.disk_full', 'node.memory_high']);
  assert.equal(rows((await run(['events', 'ls', '--limit', '1'])).stdout).map((x) => x[1]), ['node.disk_full']);
});

test('events ls --json: the API objects, details included', async () => {
  const r = await run(['events', 'ls', '--json']);
  assert.is(r.code, 0, r.stderr);
  const events = JSON.parse(r.stdout) as EventView[];
  assert.equal(events, await m.apiData<EventView[]>('/events?limit=100'));
  assert.equal(events.find((e) => e.kind === 'node.memory_high')?.details, { usedPercent: 97 });
});

test('bad flags and arguments are refused with exit code 2', async () => {
  const cases: [string[], RegExp][] = [
    [['--limit', '0'], /--limit: Expected an integer greater than or equal to 1 but received: 0/],
    [['--limit', 'many'], /--limit: Expected an integer but received: many/],
    [['--active=maybe'], /Unexpected argument: maybe/],
    [['web-1'], /command events:ls:web-1 not found/],
  ];
  for (const [args, message] of cases) {
    const r = await run(['events', 'ls', ...args]);
    assert.is(r.code, 2, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
  }
});

test.run();
