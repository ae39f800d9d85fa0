// LeaderTimer: periodic work runs only while this process leads, and runs never overlap.
import { EventEmitter } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Leader } from '../../server/leadership/leader.js';
import { LeaderTimer } from '../../server/leadership/leader-timer.js';
import { until } from './harness.js';

class SwitchLeader extends EventEmitter implements Leader {
  leading = false;
  isLeader(): boolean { return this.leading; }
  async flushAsLeader(): Promise<void> { throw new Error('LeaderTimer never writes'); }
}

test('work runs while leading, not while following, and a slow run is never doubled', async () => {
  const leader = new SwitchLeader();
  let runs = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let release: () => void = () => undefined;
  const timer = new LeaderTimer(leader, async () => {
    runs++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise<void>((resolve) => { release = resolve; });
    inFlight--;
  }, { everyMs: 5, runAtStart: true, onError: () => undefined });
  timer.start();
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.is(runs, 0, 'a follower does no work');

  leader.leading = true;
  await until('first run as leader', () => runs === 1, 2000);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.is(runs, 1, 'ticks during a run in progress are skipped');
  release();
  await until('next run after the first ended', () => runs >= 2, 2000);
  assert.is(maxInFlight, 1);

  leader.leading = false;
  release();
  const stopped = runs;
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(runs <= stopped + 1, 'no more runs once following');
  await timer.stop();
});

test('a failing run is reported and the next tick runs again', async () => {
  const leader = new SwitchLeader();
  leader.leading = true;
  const errors: unknown[] = [];
  let runs = 0;
  const timer = new LeaderTimer(leader, async () => { runs++; throw new Error('boom'); }, { everyMs: 5, onError: (err) => errors.push(err) });
  timer.start();
  await until('runs continue after failures', () => runs >= 3, 2000);
  await timer.stop();
  assert.ok(errors.length >= 2);
  assert.match(String(errors[0]), /boom/);
});

test.run();
