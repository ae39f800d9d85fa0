// The script executor on its own: real processes, real process groups, real files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentExecEvent, ScriptParams } from '../../proto/agent-api.js';
import type { AgentExecutor } from '../../agentd/exec/executor.js';
import { isAlive, newExecutor, scriptRun, tempDir, waitUntil } from './helpers/fixtures.js';

const dir = tempDir();
test.after(() => rmSync(dir, { recursive: true, force: true }));

function collect(executor: AgentExecutor, req: { runId: string; timeoutMs?: number } & ScriptParams): { events: AgentExecEvent[]; done: Promise<void> } {
  const events: AgentExecEvent[] = [];
  const done = executor.submit(scriptRun(req), (e) => { events.push(e); });
  return { events, done };
}
const exitOf = (events: AgentExecEvent[]) => events.find((e) => e.type === 'exit') as Extract<AgentExecEvent, { type: 'exit' }>;
const textOf = (events: AgentExecEvent[], stream: 'stdout' | 'stderr') =>
  events.filter((e): e is Extract<AgentExecEvent, { type: 'output' }> => e.type === 'output' && e.stream === stream).map((e) => e.data).join('');

test('a script runs: started, stdout and stderr, exit 0 → succeeded', async () => {
  const ex = newExecutor();
  const { events, done } = collect(ex, { runId: 'ok-1', script: 'echo hello; echo oops >&2; exit 0' });
  await done;
  assert.is(events[0].type, 'started');
  const started = events[0] as Extract<AgentExecEvent, { type: 'started' }>;
  assert.ok(started.pid > 0 && started.atMs > 0);
  assert.is(textOf(events, 'stdout'), 'hello\n');
  assert.is(textOf(events, 'stderr'), 'oops\n');
  const exit = exitOf(events);
  assert.equal({ status: exit.status, exitCode: exit.exitCode, signal: exit.signal, error: exit.error }, { status: 'succeeded', exitCode: 0, signal: null, error: null });
  assert.is(events[events.length - 1].type, 'exit');
  assert.is(ex.running, 0);
});

test('non-zero exit → failed with that exit code', async () => {
  const { events, done } = collect(newExecutor(), { runId: 'fail-1', script: 'echo before; exit 3' });
  await done;
  assert.is(exitOf(events).status, 'failed');
  assert.is(exitOf(events).exitCode, 3);
});

test('bash and python3 interpreters run the script', async () => {
  const ex = newExecutor();
  const b = collect(ex, { runId: 'bash-1', interpreter: 'bash', script: 'echo "${BASH_VERSION:+bash}"' });
  const p = collect(ex, { runId: 'py-1', interpreter: 'python3', script: 'import sys\nprint("py", sys.version_info[0])' });
  await Promise.all([b.done, p.done]);
  assert.is(textOf(b.events, 'stdout'), 'bash\n');
  assert.is(textOf(p.events, 'stdout'), 'py 3\n', JSON.stringify(p.events));
});

test('python is python3; a host without the interpreter fails the run plainly: "<name> not installed"', async () => {
  const ex = newExecutor({ interpreters: { pwsh: 'opsctl-test-no-such-interpreter' } });
  const py = collect(ex, { runId: 'python-1', interpreter: 'python', script: 'print("py")' });
  await py.done;
  assert.is(textOf(py.events, 'stdout'), 'py\n');
  const missing = collect(ex, { runId: 'pwsh-1', interpreter: 'pwsh', script: 'Write-Output hi' });
  await missing.done;
  assert.equal(missing.events.map((e) => e.type), ['exit']);
  assert.is(exitOf(missing.events).status, 'error');
  assert.is(exitOf(missing.events).error, 'pwsh not installed on this host (no opsctl-test-no-such-interpreter on PATH)');
  assert.is(ex.running, 0);
});

test('environment: request variables over a minimal env; agentd\'s own env does not leak', async () => {
  process.env.AGENTD_TEST_SECRET = 'do-not-leak';
  const { events, done } = collect(newExecutor(), {
    runId: 'env-1', env: { GREETING: 'hi there', HOME: '/custom-home' },
    script: 'echo "$GREETING|$HOME|$OPS_RUN_ID|${AGENTD_TEST_SECRET:-unset}"; pwd; test -t 0 || read x || echo stdin-empty',
  });
  await done;
  delete process.env.AGENTD_TEST_SECRET;
  const lines = textOf(events, 'stdout').split('\n');
  assert.is(lines[0], 'hi there|/custom-home|env-1|unset');
  assert.match(lines[1], /agentd-run-/);
  assert.is(lines[2], 'stdin-empty');
});

test('the script file and its temp dir are removed after the run', async () => {
  const { events, done } = collect(newExecutor(), { runId: 'tmp-1', script: 'echo "$0"; ls -l "$0" | cut -c1-10' });
  await done;
  const [path, mode] = textOf(events, 'stdout').split('\n');
  assert.is(mode, '-rwx------');
  assert.not.ok(existsSync(path));
});

test('a script reading stdin cannot swallow the rest of itself', async () => {
  const { events, done } = collect(newExecutor(), { runId: 'stdin-1', script: 'cat\necho still-here' });
  await done;
  assert.is(textOf(events, 'stdout'), 'still-here\n');
});

test('output is split into chunks of at most outputChunkBytes without breaking UTF-8', async () => {
  const { events, done } = collect(newExecutor({ outputChunkBytes: 7 }), { runId: 'chunk-1', script: "printf 'ééééééééééé'" });
  await done;
  const outputs = events.filter((e) => e.type === 'output') as Extract<AgentExecEvent, { type: 'output' }>[];
  assert.ok(outputs.length >= 3);
  for (const o of outputs) assert.ok(Buffer.byteLength(o.data) <= 8, o.data);
  assert.is(outputs.map((o) => o.data).join(''), 'é'.repeat(11));
  assert.not.ok(outputs.some((o) => o.data.includes('\uFFFD')));
});

test('timeout kills the whole process group (a child sleep dies too) → timeout, exitCode -1', async () => {
  const pidFile = join(dir, 'timeout-child.pid');
  const { events, done } = collect(newExecutor({ killGraceMs: 5000 }), {
    runId: 'timeout-1', timeoutMs: 1000,
    script: `sleep 300 & echo $! > ${pidFile}; wait`,
  });
  await done;
  const exit = exitOf(events);
  assert.is(exit.status, 'timeout');
  assert.is(exit.exitCode, -1);
  assert.is(exit.signal, 'SIGTERM');
  assert.match(exit.error!, /timed out after 1000 ms/);
  const childPid = Number(readFileSync(pidFile, 'utf8'));
  await waitUntil('the child sleep to die', () => !isAlive(childPid));
});

test('a script that exits at once while a background child holds its output is not a timeout', async () => {
  const ex = newExecutor({ stdioGraceMs: 1500 });
  const { events, done } = collect(ex, { runId: 'bg-1', timeoutMs: 500, script: 'sleep 3 & echo hi; exit 0' });
  await waitUntil('the script to exit', () => events.some((e) => e.type === 'output'));
  await new Promise((r) => setTimeout(r, 100));
  assert.is(ex.cancel('bg-1'), 'finished', 'nothing left to cancel: the script already exited');
  await done;
  const exit = exitOf(events);
  assert.equal({ status: exit.status, exitCode: exit.exitCode, error: exit.error }, { status: 'succeeded', exitCode: 0, error: null });
});

test('a script that ignores SIGTERM is SIGKILLed after the grace period', async () => {
  const { events, done } = collect(newExecutor({ killGraceMs: 300 }), {
    runId: 'stubborn-1', timeoutMs: 500, script: "trap '' TERM; echo ready; while :; do sleep 0.1; done",
  });
  await done;
  assert.is(exitOf(events).status, 'timeout');
  assert.is(exitOf(events).signal, 'SIGKILL');
});

test('cancel a running script → cancelled, its group dies; cancel again → finished', async () => {
  const ex = newExecutor();
  const pidFile = join(dir, 'cancel-child.pid');
  const { events, done } = collect(ex, { runId: 'cancel-1', script: `sleep 300 & echo $! > ${pidFile}; echo up; wait` });
  await waitUntil('the script to start its child', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '');
  assert.is(ex.cancel('cancel-1'), 'cancelled');
  await done;
  assert.is(exitOf(events).status, 'cancelled');
  await waitUntil('the child sleep to die', () => !isAlive(Number(readFileSync(pidFile, 'utf8'))));
  assert.is(ex.cancel('cancel-1'), 'finished');
  assert.is(ex.cancel('never-seen'), 'unknown');
});

test('concurrency limit: maxConcurrent=2, 4 tasks → 2 queued in order, all finish', async () => {
  const ex = newExecutor({ maxConcurrent: 2 });
  const gate = join(dir, 'gate');
  const runs = [1, 2, 3, 4].map((i) => collect(ex, { runId: `conc-${i}`, script: `while [ ! -e ${gate} ]; do sleep 0.05; done; echo run-${i}` }));
  assert.is(ex.running, 2);
  assert.is(ex.queued, 2);
  assert.equal(runs[2].events[0], { type: 'queued', runId: 'conc-3', position: 1 });
  assert.equal(runs[3].events[0], { type: 'queued', runId: 'conc-4', position: 2 });
  assert.is(runs[0].events[0].type, 'started');
  assert.is(runs[2].events.length, 1, 'a queued run has not started');
  writeFileSync(gate, '');
  await Promise.all(runs.map((r) => r.done));
  for (const [i, r] of runs.entries()) {
    assert.is(exitOf(r.events).status, 'succeeded');
    assert.is(textOf(r.events, 'stdout'), `run-${i + 1}\n`);
  }
  assert.equal(runs[2].events.map((e) => e.type).slice(0, 2), ['queued', 'started']);
});

test('cancel a queued run → cancelled without starting', async () => {
  const ex = newExecutor({ maxConcurrent: 1 });
  const first = collect(ex, { runId: 'q-1', script: 'sleep 300' });
  const second = collect(ex, { runId: 'q-2', script: `touch ${join(dir, 'q2-ran')}` });
  assert.is(ex.cancel('q-2'), 'cancelled');
  await second.done;
  assert.equal(second.events.map((e) => e.type), ['queued', 'exit']);
  assert.is(exitOf(second.events).status, 'cancelled');
  ex.cancel('q-1');
  await first.done;
  assert.not.ok(existsSync(join(dir, 'q2-ran')));
});

test('a duplicate run id is a conflict while it runs and while its events are kept; reused once they are forgotten', async () => {
  const ex = newExecutor();
  const a = collect(ex, { runId: 'dup-1', script: 'sleep 300' });
  assert.throws(() => ex.submit(scriptRun({ runId: 'dup-1', script: 'true' }), () => {}), (err: { code: number }) => err.code === 1005);
  ex.cancel('dup-1');
  await a.done;
  assert.throws(() => ex.submit(scriptRun({ runId: 'dup-1', script: 'true' }), () => {}), /run dup-1 has already run; read its events instead/);
  const forgetful = newExecutor({ retain: { finishedMs: 0 } });
  await collect(forgetful, { runId: 'dup-2', script: 'true' }).done;
  const b = collect(forgetful, { runId: 'dup-2', script: 'true' });
  await b.done;
  assert.is(exitOf(b.events).status, 'succeeded');
});

test('an interpreter that cannot be started → error, no started event', async () => {
  const ex = newExecutor({ interpreters: { sh: '/nonexistent/bin/sh' } });
  const { events, done } = collect(ex, { runId: 'err-1', script: 'true' });
  await done;
  assert.equal(events.map((e) => e.type), ['exit']);
  assert.is(exitOf(events).status, 'error');
  assert.is(exitOf(events).exitCode, -1);
  assert.match(exitOf(events).error!, /ENOENT/);
  assert.is(ex.running, 0);
});

test('shutdown cancels queued runs, lets running ones finish within the grace, refuses new ones', async () => {
  const ex = newExecutor({ maxConcurrent: 1 });
  const running = collect(ex, { runId: 'sd-1', script: 'sleep 0.3; echo finished' });
  const queued = collect(ex, { runId: 'sd-2', script: 'echo never' });
  await ex.shutdown(10_000);
  assert.is(exitOf(running.events).status, 'succeeded');
  assert.is(exitOf(queued.events).status, 'cancelled');
  assert.throws(() => ex.submit(scriptRun({ runId: 'sd-3', script: 'true' }), () => {}), (err: { code: number }) => err.code === 5003);
});

test('shutdown stops scripts still running after the grace', async () => {
  const ex = newExecutor();
  const r = collect(ex, { runId: 'sd-long', script: 'sleep 300' });
  await ex.shutdown(200);
  assert.is(exitOf(r.events).status, 'cancelled');
});

test.run();
