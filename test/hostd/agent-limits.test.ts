// agent.limits with the real supervisor and real processes: one that grows past its memory limit,
// one that spins past its CPU limit (over a 1 s window here), one that stays under both.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../lib/log.js';
import type { AgentLimits } from '../../hostd/agent-limits.js';
import { AgentSupervisor } from '../../hostd/supervisor.js';
import { isAlive, waitUntil } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'ops-agent-limits-'));
const scripts = {
  // 8 MB more every 100 ms, up to 400 MB.
  grows: 'const a = []; const t = setInterval(() => { a.push(Buffer.alloc(8 << 20, 1)); if (a.length >= 50) clearInterval(t); }, 100);',
  spins: 'for (;;) {}',
  idles: 'setInterval(() => {}, 1000);',
};
for (const [name, code] of Object.entries(scripts)) writeFileSync(join(dir, `${name}.js`), code);

async function supervise(script: keyof typeof scripts, limits: AgentLimits, body: (s: AgentSupervisor, overs: { pid: number; reason: string }[]) => Promise<void>) {
  const dataDir = mkdtempSync(join(dir, `${script}-`));
  const overs: { pid: number; reason: string }[] = [];
  const supervisor = new AgentSupervisor({
    dataDir, listen: '127.0.0.1:0', command: [process.execPath, join(dir, `${script}.js`)], maxConcurrent: 1, logLevel: 'debug',
    stopOnExit: true, log: createLogger({ component: 'hostd', level: 'debug', destination: new PassThrough() }), restartDelay: () => 0, pollMs: 100, limits,
  });
  supervisor.on('over-limit', (o: { pid: number; reason: string }) => overs.push(o));
  try {
    await supervisor.start();
    await body(supervisor, overs);
  } finally {
    await supervisor.stop();
  }
}

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('over agent.limits.memoryMB: stopped and restarted, again and again', async () => {
  await supervise('grows', { memoryMB: 96, cpuPercent: 0, cpuWindowSeconds: 60 }, async (s, overs) => {
    await waitUntil('two restarts for memory', () => overs.length >= 2, 30_000);
    assert.match(overs[0].reason, /^memory limit: \d+ MB resident, agent\.limits\.memoryMB is 96$/);
    assert.is.not(overs[0].pid, overs[1].pid, 'a new agentd each time');
    assert.not.ok(isAlive(overs[0].pid), 'the one over its limit is gone');
    await waitUntil('both counted on the crash schedule', () => s.crashCount >= 2, 15_000);
    assert.is(s.status(), 'over-limit', 'reported to the manager, which raises agent.over_limit');
  });
});

test('over agent.limits.cpuPercent for a whole window: restarted', async () => {
  await supervise('spins', { memoryMB: 0, cpuPercent: 30, cpuWindowSeconds: 1 }, async (_s, overs) => {
    await waitUntil('a restart for CPU', () => overs.length >= 1, 30_000);
    assert.match(overs[0].reason, /^CPU limit: \d+% of a core over [12] s, agent\.limits\.cpuPercent is 30$/);
    await waitUntil('it to be gone', () => !isAlive(overs[0].pid), 15_000);
  });
});

test('under both limits: left alone', async () => {
  await supervise('idles', { memoryMB: 512, cpuPercent: 30, cpuWindowSeconds: 1 }, async (s, overs) => {
    const pid = await waitUntil('agentd', () => s.agentPid);
    const until = Date.now() + 2500;
    await waitUntil('2.5 s to pass', () => Date.now() > until, 5000);
    assert.is(overs.length, 0);
    assert.is(s.agentPid, pid);
    assert.is(s.crashCount, 0);
  });
});

test.run();
