// hostd's metrics schedule on real timers: the welcome's interval, a live interval from
// SetSampling (first sample at once, clamped to 1 s), renewals that keep the rhythm, the way back
// when told or when no renewal comes within the TTL, and the log lines (debug) that say so.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../lib/log.js';
import { MetricsSchedule } from '../../hostd/metrics-schedule.js';
import { waitUntil } from './helpers.js';

const made: MetricsSchedule[] = [];
// A failed test must not leave an hour-long interval holding the process open.
test.after.each(() => { for (const s of made.splice(0)) s.stop(); });

function schedule() {
  const out = new PassThrough();
  let logged = '';
  out.on('data', (d) => { logged += d; });
  const samples: number[] = [];
  const s = new MetricsSchedule(() => samples.push(Date.now()), createLogger({ component: 'hostd', level: 'debug', destination: out }));
  made.push(s);
  return { s, samples, log: () => logged };
}

test('before a welcome a SetSampling is ignored', () => {
  const { s, samples } = schedule();
  s.setLive(2, 60);
  assert.is(s.seconds, 0);
  assert.is(samples.length, 0);
  s.stop();
});

test('a live interval samples at once and then often; a TTL without renewal goes back to the configured interval', async () => {
  const { s, samples, log } = schedule();
  s.start(3600);
  assert.is(s.seconds, 3600);
  s.setLive(1, 4);
  assert.is(samples.length, 1, 'the first fast sample comes at once');
  assert.is(s.seconds, 1);
  assert.ok(s.live);
  await waitUntil('two more samples', () => samples.length >= 3, 10_000);
  await waitUntil('the TTL to run out', () => !s.live, 10_000);
  assert.is(s.seconds, 3600);
  const logged = log();
  assert.match(logged, /"level":"debug"[^\n]*"intervalSeconds":1[^\n]*sampling metrics faster/);
  assert.match(logged, /"why":"no renewal within 4 s"[^\n]*sampling metrics at the configured interval again/);
  const count = samples.length;
  s.stop();
  assert.ok(count >= 3);
});

test('a renewal keeps the live interval past the first TTL without an extra sample', async () => {
  const { s, samples } = schedule();
  s.start(3600);
  s.setLive(1, 2);
  const started = Date.now();
  // Renew every half TTL, as the manager does, for longer than one TTL.
  while (Date.now() - started < 3000) {
    const before = samples.length;
    s.setLive(1, 2);
    assert.is(samples.length, before, 'a renewal does not sample at once');
    await waitUntil('the next sample', () => samples.length > before, 5000);
  }
  assert.ok(s.live, 'still live after more than one TTL');
  s.setLive(0, 0);
  assert.ok(!s.live);
  assert.is(s.seconds, 3600);
  s.stop();
});

test('intervals under 1 s are clamped; a missing TTL still ends; a new welcome ends a live interval', () => {
  const { s } = schedule();
  s.start(60);
  s.setLive(-5, 10);
  assert.is(s.seconds, 60, 'a negative interval means back to the configured one');
  s.setLive(0.3, 10);
  assert.is(s.seconds, 1);
  s.setLive(1, 0);
  assert.ok(s.live);
  s.start(30);
  assert.ok(!s.live);
  assert.is(s.seconds, 30);
  s.stop();
});

test.run();
