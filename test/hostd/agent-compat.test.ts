// hostd refuses an agentd outside its compatible version range: before starting one (the version
// agent.command says) and when a running one reports in (the real agentd, built).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../lib/log.js';
import { packageRoot } from '../../lib/version.js';
import { agentCompatibleRange, isAgentCompatible } from '../../proto/agent-compat.js';
import { AgentSupervisor } from '../../hostd/supervisor.js';
import { freePort } from '../helpers/ports.js';
import { isAlive, waitUntil } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'ops-agent-compat-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const refuseOutside = (hostdVersion: string) => (v: string | undefined) =>
  v === undefined || isAgentCompatible(hostdVersion, v) ? undefined : `agentd ${v} is outside the versions hostd ${hostdVersion} works with (${agentCompatibleRange(hostdVersion)})`;

function supervisor(name: string, listen: string, over: Partial<ConstructorParameters<typeof AgentSupervisor>[0]>) {
  return new AgentSupervisor({
    dataDir: mkdtempSync(join(dir, `${name}-`)), listen, command: [process.execPath, join(packageRoot(), 'bin', 'agentd.js')], maxConcurrent: 1,
    logLevel: 'info', stopOnExit: true, log: createLogger({ component: 'hostd', level: 'info', destination: new PassThrough() }), pollMs: 100, ...over,
  });
}

test('the range: same major, and for 0.x the same minor', () => {
  assert.is(agentCompatibleRange('1.4.2'), '^1.0.0');
  assert.is(agentCompatibleRange('0.3.1'), '^0.3.0');
  for (const [h, a, ok] of [['1.4.0', '1.0.0', true], ['1.4.0', '1.9.9', true], ['1.4.0', '2.0.0', false], ['1.4.0', '0.9.0', false],
    ['0.3.1', '0.3.9', true], ['0.3.1', '0.4.0', false], ['1.0.0', 'garbage', false]] as const) {
    assert.is(isAgentCompatible(h, a), ok, `${h} with ${a}`);
  }
});

test('an agent command that says it is outside the range is not started', async () => {
  const s = supervisor('before', `127.0.0.1:${await freePort()}`, { incompatible: refuseOutside('0.1.0'), commandVersion: () => '9.0.0' });
  const refusals: string[] = [];
  s.on('incompatible', (r: string) => refusals.push(r));
  try {
    await s.start();
    assert.equal(refusals, ['agentd 9.0.0 is outside the versions hostd 0.1.0 works with (^0.1.0)']);
    assert.is(s.agentPid, undefined, 'nothing started');
    assert.is(s.status(), 'incompatible', 'reported to the manager, which raises agent.incompatible');
  } finally {
    await s.stop();
  }
});

test('a running agentd that reports a version outside the range is stopped and not restarted', async () => {
  const s = supervisor('heartbeat', `127.0.0.1:${await freePort()}`, { incompatible: refuseOutside('7.0.0') });
  const refusals: string[] = [];
  s.on('incompatible', (r: string) => refusals.push(r));
  try {
    await s.start();
    const pid = await waitUntil('agentd to start', () => s.agentPid);
    await waitUntil('the refusal', () => refusals.length > 0, 30_000);
    assert.match(refusals[0], /^agentd \d+\.\d+\.\d+\S* is outside the versions hostd 7\.0\.0 works with \(\^7\.0\.0\)$/);
    await waitUntil('the refused agentd to stop', () => !isAlive(pid), 15_000);
    assert.is(s.agentPid, undefined);
    assert.is(s.status(), 'incompatible');
    assert.is(refusals.length, 1, 'refused once');
  } finally {
    await s.stop();
  }
});

test.run();
