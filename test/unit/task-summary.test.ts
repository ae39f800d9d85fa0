// What tasks run says on stderr about waves, budgets and queues, and what the rollout flags send:
// the parts the real-stack tests (test/cli/orchestration.test.ts) see only one case of each.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TaskDetail, TaskRun } from '../../proto/rest/tasks.js';
import { rolloutFromFlags } from '../../cli/lib/tasks/rollout-flags.js';
import { acceptedLine, queuedLine, summaryLine } from '../../cli/lib/tasks/summary.js';

const runOn = (node: string, wave: number): TaskRun => ({
  id: `r-${node}`, node, status: 'pending', exitCode: null, error: null, startedAt: null, finishedAt: null, durationMs: null,
  output: '', outputTruncated: false, errorCode: null, result: null, wave,
});

function task(runs: TaskRun[], extra: Partial<TaskDetail> = {}): TaskDetail {
  return {
    id: 't-1', status: 'running', kind: 'script', script: 'true', interpreter: 'sh', params: null, timeoutSeconds: 60, env: {},
    createdBy: 'admin', createdAt: '2025-01-02T03:04:05.000Z', finishedAt: null,
    counts: { total: runs.length, succeeded: 0, failed: 0, pending: runs.length, skipped: 0, queued: 0 },
    rollout: null, queueExpiresAt: null, stopReason: null, template: null, schedule: null, runs, ...extra,
  };
}

test('the accepted line describes the plan the manager made', () => {
  assert.is(acceptedLine(task([runOn('a', 0)])), 'task t-1 accepted on 1 node');
  const waves = [runOn('a', 0), runOn('b', 1), runOn('c', 1), runOn('d', 1), runOn('e', 2)];
  assert.is(acceptedLine(task(waves, { rollout: { batch: '3' } })), 'task t-1 accepted on 5 nodes (waves of 3, stop after 1 failure)');
  assert.is(acceptedLine(task(waves, { rollout: { canary: 1, batch: '60%', maxFail: '2', batchPauseSeconds: 30 } })),
    'task t-1 accepted on 5 nodes (1 canary node first, waves of 3, 30 s between waves, stop after 3 failures)');
  assert.is(acceptedLine(task(waves, { rollout: { canary: 2, maxFail: '10%' }, queueExpiresAt: '2025-01-03T03:04:05.000Z' })),
    'task t-1 accepted on 5 nodes (2 canary nodes first, stop when more than 10% fail, offline nodes queued until 2025-01-03T03:04:05.000Z)');
});

test('the summary counts every final status, skipped with the reason; queued nodes get their own line', () => {
  const runs = [
    { node: 'a', status: 'succeeded' as const, exitCode: 0, error: null },
    { node: 'b', status: 'failed' as const, exitCode: 2, error: null },
    { node: 'c', status: 'skipped' as const, exitCode: null, error: null },
    { node: 'd', status: 'offline' as const, exitCode: null, error: null },
    { node: 'e', status: 'expired' as const, exitCode: null, error: null },
    { node: 'f', status: 'lost' as const, exitCode: null, error: null },
    { node: 'g', status: 'queued' as const, exitCode: null, error: null },
    { node: 'h', status: 'queued' as const, exitCode: null, error: null },
  ];
  assert.is(summaryLine(runs, 1500, '1 failure, more than --max-fail 0 allows'),
    '8 nodes: 1 succeeded, 1 failed (exit 2 on b), 1 offline (d), 1 expired in the queue (e), 1 lost (f), 1 skipped (1 failure, more than --max-fail 0 allows), 2 queued in 1.5 s');
  assert.is(summaryLine(runs.slice(2, 3), 100), '1 node: 0 succeeded, 1 skipped (c) in 0.1 s');
  assert.is(queuedLine(runs, 't-1', '2025-01-03T03:04:05.000Z'), "2 nodes queued until 2025-01-03T03:04:05.000Z: g, h — 'opsctl tasks show t-1' follows them");
  assert.is(queuedLine(runs.slice(0, 2), 't-1', null), undefined);
});

test('rollout flags become the request fields; none given, none sent', () => {
  assert.equal(rolloutFromFlags({}), {});
  assert.equal(rolloutFromFlags({ batch: '10%', canary: 1, 'max-fail': '2%', 'batch-pause': '5m', queue: true, expires: '24h' }),
    { rollout: { batch: '10%', canary: 1, maxFail: '2%', batchPauseSeconds: 300 }, queue: true, queueExpiresSeconds: 86400 });
  assert.equal(rolloutFromFlags({ canary: 2, 'max-fail': '0' }), { rollout: { canary: 2, maxFail: '0' } });
  assert.equal(rolloutFromFlags({ batch: '12.5%' }), { rollout: { batch: '12.5%' } });
  assert.equal(rolloutFromFlags({ queue: true }), { queue: true });
});

test.run();
