// The agent supervisor with a real agentd command that dies at once: after the crashes that bring
// the restart delay to its longest stage hostd reports agentStatus crash-loop (the manager raises
// agent.crash_loop on it). Restart delays are 0 here so the crashes come quickly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../lib/log.js';
import { AgentSupervisor, type AgentStatus } from '../../hostd/supervisor.js';
import { waitUntil } from './helpers.js';

test('an agentd that keeps dying is reported as crash-loop', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ops-hostd-crash-'));
  const seen: AgentStatus[] = [];
  const supervisor = new AgentSupervisor({
    dataDir, listen: '127.0.0.1:0', command: [process.execPath, '-e', 'process.exit(3)'], maxConcurrent: 1, logLevel: 'debug',
    stopOnExit: true, log: createLogger({ component: 'hostd', level: 'debug', destination: new PassThrough() }), restartDelay: () => 0, pollMs: 50,
  });
  supervisor.on('status', (s: AgentStatus) => seen.push(s));
  try {
    await supervisor.start();
    await waitUntil('crash-loop', () => supervisor.status() === 'crash-loop');
    assert.ok(seen.includes('crash-loop'), 'the change is announced (hostd sends it to the manager at once)');
    assert.not.ok(seen.slice(0, seen.indexOf('crash-loop')).includes('healthy'));
  } finally {
    await supervisor.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test.run();
