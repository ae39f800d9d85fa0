// agentd supervision with real processes: agentd outlives a SIGKILLed hostd, the next hostd
// adopts it instead of starting a second one, and a killed agentd is restarted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../helpers/ports.js';
import { startGateway, type TestGateway } from '../hostlink/helpers.js';
import { isAlive, killAllUnder, processesMatching, readPid, startHostd, waitUntil, type HostdRun } from './helpers.js';

let gw: TestGateway;
const root = mkdtempSync(join(tmpdir(), 'ops-hostd-sup-'));
const dataDir = join(root, 'hostd');
const pidFile = join(dataDir, 'agentd.pid');
const keysFile = join(dataDir, 'agent-keys.json');
const runs: HostdRun[] = [];
let agentPort = 0;

/** agentd processes started for this data directory (their command line names its keys file). */
const agents = () => processesMatching(keysFile).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('agentd'));

test.before(async () => {
  gw = await startGateway({ heartbeatSeconds: 1 });
  gw.backend.addToken('sup-token');
  [agentPort] = await freePorts(1);
});

test.after(async () => {
  await killAllUnder(root, runs);
  await gw.close();
  rmSync(root, { recursive: true, force: true });
});

const hostdArgs = () => ['--manager', gw.address, '--data-dir', dataDir, '--agent-listen', `127.0.0.1:${agentPort}`, '--log-level', 'debug'];

test('agentd survives hostd being SIGKILLed; the restarted hostd adopts it', async () => {
  const first = startHostd([...hostdArgs(), '--ca-hash', gw.gateway.caHash(), '--token', 'sup-token', '--name', 'sup-node']);
  runs.push(first);
  await gw.backend.waitFor('healthy agent', (r) => r.type === 'heartbeat' && r.agentStatus === 'healthy');
  const pid = await waitUntil('agentd pid file', () => readPid(pidFile));
  assert.ok(isAlive(pid));

  first.child.kill('SIGKILL');
  await first.exit;
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(isAlive(pid), 'agentd is still running after hostd died');

  const healthyBefore = gw.backend.records.length;
  const second = startHostd(hostdArgs());
  runs.push(second);
  await gw.backend.waitFor('healthy agent after restart', (r) => r.type === 'heartbeat' && r.agentStatus === 'healthy' && gw.backend.records.indexOf(r) >= healthyBefore);
  assert.is(readPid(pidFile), pid, 'same agentd');
  assert.equal(agents(), [pid], 'exactly one agentd');
  assert.match(second.stdout(), /adopted the running agentd/);
});

test('a killed agentd is restarted by hostd', async () => {
  const old = readPid(pidFile)!;
  process.kill(old, 'SIGKILL');
  const fresh = await waitUntil('a new agentd', () => {
    const pid = readPid(pidFile);
    return pid !== undefined && pid !== old && isAlive(pid) ? pid : undefined;
  });
  assert.ok(fresh !== old);
  await waitUntil('exactly one agentd', () => agents().length === 1 && agents()[0] === fresh);
  const second = runs[runs.length - 1];
  await waitUntil('the restart to be logged', () => /agentd (exited|is gone)[^"]*; restarting/.test(second.stdout()));
  const t0 = gw.backend.records.length;
  await gw.backend.waitFor('healthy again', (r) => r.type === 'heartbeat' && r.agentStatus === 'healthy' && gw.backend.records.indexOf(r) >= t0);
});

test('hostd stopping (SIGTERM) leaves agentd running by default', async () => {
  const pid = readPid(pidFile)!;
  const second = runs[runs.length - 1];
  second.child.kill('SIGTERM');
  const { code } = await second.exit;
  assert.is(code, 0);
  assert.ok(isAlive(pid));
});

test.run();
