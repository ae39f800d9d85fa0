// The `service` kind: real SysV init scripts in a temp init dir (a background `sleep` as the
// daemon, a pid file, LSB status codes), driven through the real executor, agentd's HTTP app and
// the agentd process; service-manager detection on described hosts; systemd where it really runs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { AGENT_API, type AgentExecEvent, type AgentHealth, type ServiceParams } from '../../proto/agent-api.js';
import type { AgentExecutor } from '../../agentd/exec/executor.js';
import {
  detectServiceManager, lsbState, NO_SERVICE_MANAGER, sysvManager, systemdManager, type HostProbe,
} from '../../agentd/exec/service-managers.js';
import { RAW_OUTPUT_CAP } from '../../agentd/exec/service-command.js';
import { loadAgentdConfig } from '../../agentd/config.js';
import { injectSigned, isAlive, newApp, newExecutor, parseNdjson, signedHeaders, tempDir, waitUntil, writeKeysFile } from './helpers/fixtures.js';
import { startAgentd, startServingAgentd, type AgentdProcess } from './helpers/agentd-process.js';

const dir = tempDir();
const initDir = join(dir, 'init.d');
const stateDir = join(dir, 'state');
mkdirSync(initDir);
mkdirSync(stateDir);
const agents: AgentdProcess[] = [];

/** A well-behaved LSB init script whose daemon is a background `sleep`, its pid in <stateDir>/<name>.pid. */
function writeInitScript(name: string, body?: string): void {
  const pidFile = join(stateDir, `${name}.pid`);
  writeFileSync(join(initDir, name), body ?? `#!/bin/sh
PIDFILE=${pidFile}
running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
case "$1" in
  start)
    if running; then echo "${name} already running"; exit 0; fi
    sleep 300 >/dev/null 2>&1 </dev/null &
    echo $! > "$PIDFILE"
    echo "starting ${name}" ;;
  stop)
    if running; then kill "$(cat "$PIDFILE")"; fi
    rm -f "$PIDFILE"
    echo "stopping ${name}" ;;
  restart) "$0" stop; "$0" start ;;
  status)
    if running; then echo "${name} is running (pid $(cat "$PIDFILE"))"; exit 0; fi
    if [ -f "$PIDFILE" ]; then echo "${name} is dead but its pid file exists"; exit 1; fi
    echo "${name} is not running"; exit 3 ;;
  *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
`, { mode: 0o755 });
}

const daemonPid = (name: string) => Number(readFileSync(join(stateDir, `${name}.pid`), 'utf8'));

writeInitScript('websvc');
writeInitScript('restartsvc');
// start fails and leaves a stale pid file behind: status then says failed (LSB 1).
writeInitScript('broken', `#!/bin/sh
case "$1" in
  start) echo "broken: cannot bind port 80" >&2; echo 999999 > ${join(stateDir, 'broken.pid')}; exit 7 ;;
  status) if [ -f ${join(stateDir, 'broken.pid')} ]; then echo "broken is dead but its pid file exists"; exit 1; fi; exit 3 ;;
  *) exit 0 ;;
esac
`);
// start hangs (its child sleeps in the foreground); the child's pid lands in hang.sleep.
writeInitScript('hang', `#!/bin/sh
case "$1" in
  start) echo "hanging"; sleep 300 & echo $! > ${join(stateDir, 'hang.sleep')}; wait ;;
  status) exit 4 ;;
esac
`);
// Any run of this script leaves a marker: it proves a refused name never reached it.
const evilMarker = join(stateDir, 'evil.ran');
writeInitScript('evil', `#!/bin/sh\ntouch ${evilMarker}\n`);
writeFileSync(join(initDir, 'not-executable'), '#!/bin/sh\nexit 0\n', { mode: 0o644 });
mkdirSync(join(initDir, 'a-folder'));

const executor = newExecutor({ serviceManager: sysvManager(initDir), killGraceMs: 500 });
const app = newApp(executor);

test.after(async () => {
  await executor.shutdown(0);
  await app.close();
  for (const a of agents) await a.stop();
  for (const name of ['websvc', 'restartsvc']) {
    try { process.kill(daemonPid(name)); } catch { /* stopped by its test */ }
  }
  rmSync(dir, { recursive: true, force: true });
});

type Exit = Extract<AgentExecEvent, { type: 'exit' }>;
let runSeq = 0;

async function runService(ex: AgentExecutor, params: ServiceParams, over: { runId?: string; timeoutMs?: number } = {}) {
  const events: AgentExecEvent[] = [];
  const runId = over.runId ?? `svc-${++runSeq}`;
  await ex.submit({ runId, kind: 'service', params, ...(over.timeoutMs ? { timeoutMs: over.timeoutMs } : {}) }, (e) => { events.push(e); });
  const exit = events.find((e) => e.type === 'exit') as Exit;
  const stdout = events.filter((e): e is Extract<AgentExecEvent, { type: 'output' }> => e.type === 'output' && e.stream === 'stdout').map((e) => e.data).join('');
  const stderr = events.filter((e): e is Extract<AgentExecEvent, { type: 'output' }> => e.type === 'output' && e.stream === 'stderr').map((e) => e.data).join('');
  return { events, exit, stdout, stderr };
}

test('status of a stopped service: succeeded, state inactive, the script\'s text as raw and as output', async () => {
  const { exit, stdout } = await runService(executor, { action: 'status', name: 'websvc' });
  assert.is(exit.status, 'succeeded');
  assert.is(exit.exitCode, 0);
  assert.equal(exit.result, { state: 'inactive', raw: 'websvc is not running\n' });
  assert.is(stdout, 'websvc is not running\n');
});

test('start → active with the daemon running; status → active; stop → inactive with the daemon gone', async () => {
  const started = await runService(executor, { action: 'start', name: 'websvc' });
  assert.is(started.exit.status, 'succeeded', JSON.stringify(started.exit));
  assert.is(started.exit.error, null);
  assert.is((started.exit.result as { state: string }).state, 'active');
  assert.match((started.exit.result as { raw: string }).raw, /^websvc is running \(pid \d+\)\n$/);
  // The start command's output and the status check's both reach the caller.
  assert.match(started.stdout, /^starting websvc\nwebsvc is running/);
  const pid = daemonPid('websvc');
  assert.ok(isAlive(pid), 'the daemon runs after start');

  const status = await runService(executor, { action: 'status', name: 'websvc' });
  assert.is(status.exit.status, 'succeeded');
  assert.is((status.exit.result as { state: string }).state, 'active');

  const stopped = await runService(executor, { action: 'stop', name: 'websvc' });
  assert.is(stopped.exit.status, 'succeeded');
  assert.equal(stopped.exit.result, { state: 'inactive', raw: 'websvc is not running\n' });
  await waitUntil('the daemon to end', () => !isAlive(pid));
});

test('restart gives the service a new daemon and reports active', async () => {
  await runService(executor, { action: 'start', name: 'restartsvc' });
  const before = daemonPid('restartsvc');
  const { exit, stdout } = await runService(executor, { action: 'restart', name: 'restartsvc' });
  assert.is(exit.status, 'succeeded');
  assert.is((exit.result as { state: string }).state, 'active');
  assert.match(stdout, /stopping restartsvc\nstarting restartsvc\n/);
  const after = daemonPid('restartsvc');
  assert.is.not(after, before);
  await waitUntil('the old daemon to end', () => !isAlive(before));
  assert.ok(isAlive(after));
  await runService(executor, { action: 'stop', name: 'restartsvc' });
});

test('a start that fails: failed run with the script\'s exit code, its stderr, and the state after it (failed)', async () => {
  const { exit, stderr } = await runService(executor, { action: 'start', name: 'broken' });
  assert.is(exit.status, 'failed');
  assert.is(exit.exitCode, 7);
  assert.is(exit.error, 'start broken failed (exit code 7); the service is failed');
  assert.is(stderr, 'broken: cannot bind port 80\n');
  assert.equal(exit.result, { state: 'failed', raw: 'broken is dead but its pid file exists\n' });
  // status of a failed service is still a successful run: the state is the answer.
  const status = await runService(executor, { action: 'status', name: 'broken' });
  assert.is(status.exit.status, 'succeeded');
  assert.is((status.exit.result as { state: string }).state, 'failed');
});

test('LSB status codes: 0 active, 3 inactive, 1 and 2 failed, 4 and others unknown', () => {
  assert.equal([0, 1, 2, 3, 4, 5, 150, null].map(lsbState), ['active', 'failed', 'failed', 'inactive', 'unknown', 'unknown', 'unknown', 'unknown']);
});

test('unknown service: no such script, not executable, a folder → error 1004 "unknown service NAME", nothing run', async () => {
  for (const name of ['nosuch', 'not-executable', 'a-folder']) {
    const { exit, events } = await runService(executor, { action: 'start', name });
    assert.equal(events.map((e) => e.type), ['started', 'exit'], name);
    assert.is(exit.status, 'error');
    assert.is(exit.errorCode, 1004);
    assert.is(exit.error, `unknown service ${name} (no executable ${join(initDir, name)})`);
    assert.is(exit.result, undefined);
  }
});

test('no service manager on the host: every run fails with a clear error', async () => {
  const ex = newExecutor({ serviceManager: NO_SERVICE_MANAGER });
  const { exit } = await runService(ex, { action: 'status', name: 'websvc' });
  assert.is(exit.status, 'error');
  assert.is(exit.error, 'no service manager found on this host');
  assert.is(exit.errorCode, 5003);
  assert.is(ex.capabilities().serviceManager, 'none');
  await ex.shutdown(0);
});

test('cancel of a hanging start: cancelled, and the init script\'s children are killed too', async () => {
  rmSync(join(stateDir, 'hang.sleep'), { force: true });
  const events: AgentExecEvent[] = [];
  const done = executor.submit({ runId: 'hang-cancel', kind: 'service', params: { action: 'start', name: 'hang' } }, (e) => { events.push(e); });
  await waitUntil('the hanging start', () => existsSync(join(stateDir, 'hang.sleep')) && readFileSync(join(stateDir, 'hang.sleep'), 'utf8').trim() !== '');
  const sleeper = Number(readFileSync(join(stateDir, 'hang.sleep'), 'utf8'));
  assert.is(executor.cancel('hang-cancel'), 'cancelled');
  await done;
  const exit = events.find((e) => e.type === 'exit') as Exit;
  assert.is(exit.status, 'cancelled');
  assert.is(exit.result, undefined);
  await waitUntil('the hanging child to be killed', () => !isAlive(sleeper));
});

test('timeout of a hanging start: status timeout with the time named', async () => {
  rmSync(join(stateDir, 'hang.sleep'), { force: true });
  const { exit } = await runService(executor, { action: 'start', name: 'hang' }, { timeoutMs: 300 });
  assert.is(exit.status, 'timeout');
  assert.is(exit.error, 'timed out after 300 ms');
  const sleeper = Number(readFileSync(join(stateDir, 'hang.sleep'), 'utf8'));
  await waitUntil('the hanging child to be killed', () => !isAlive(sleeper));
});

test('HTTP: a service run streams NDJSON with the result on the exit event', async () => {
  const res = await injectSigned(app, 'POST', AGENT_API.exec, { runId: 'http-status-1', kind: 'service', params: { action: 'status', name: 'websvc' } });
  assert.is(res.statusCode, 200);
  const events = parseNdjson(res.body);
  const exit = events[events.length - 1] as Exit;
  assert.is(exit.type, 'exit');
  assert.is(exit.status, 'succeeded');
  assert.equal(exit.result, { state: 'inactive', raw: 'websvc is not running\n' });
});

test('HTTP: names with ; / spaces, a leading - or ., and bad actions → 400 / 1001 naming the field; nothing ran', async () => {
  const bad: [string, unknown][] = [
    ['evil;touch x', 'start'], ['evil x', 'start'], ['../init.d/evil', 'start'], ['init.d/evil', 'status'],
    ['-evil', 'start'], ['.evil', 'start'], ['', 'status'], ['evil$(id)', 'start'], ['evil\n', 'start'], ['e'.repeat(201), 'start'],
  ];
  for (const [name, action] of bad) {
    const runId = `bad-name-${++runSeq}`;
    const res = await injectSigned(app, 'POST', AGENT_API.exec, { runId, kind: 'service', params: { action, name } });
    assert.is(res.statusCode, 400, JSON.stringify(name));
    const body = res.json();
    assert.is(body.code, 1001);
    assert.match(body.message, /params\.name must match pattern/, body.message);
    assert.is(executor.cancel(runId), 'unknown');
  }
  for (const params of [{ action: 'reload', name: 'evil' }, { name: 'evil' }, { action: 'start', name: 'evil', extra: 1 }, { action: 'start', name: 7 }]) {
    const res = await injectSigned(app, 'POST', AGENT_API.exec, { runId: `bad-params-${++runSeq}`, kind: 'service', params });
    assert.is(res.statusCode, 400, JSON.stringify(params));
    assert.is(res.json().code, 1001);
    assert.match(res.json().message, /params/);
  }
  assert.not.ok(existsSync(evilMarker), 'a refused request reached the init script');
  // The executor refuses them as well when called without the HTTP schema.
  assert.throws(() => executor.submit({ runId: 'direct-bad', kind: 'service', params: { action: 'start', name: 'evil;id' } }, () => {}), /params\.name must be a service name/);
  assert.throws(() => executor.submit({ runId: 'direct-bad-2', kind: 'service', params: { action: 'reload' as 'start', name: 'evil' } }, () => {}), /params\.action must be one of start, stop, restart, status/);
  assert.not.ok(existsSync(evilMarker));
});

test('capabilities: the service kind and the detected manager', () => {
  const caps = executor.capabilities();
  assert.ok(caps.kinds.includes('service'));
  assert.is(caps.serviceManager, 'sysv');
});

test('raw output is capped at 64 KiB; the output events carry all of it', async () => {
  writeInitScript('chatty', `#!/bin/sh\nhead -c 100000 /dev/zero | tr '\\\\0' x\nexit 3\n`);
  const { exit, stdout } = await runService(executor, { action: 'status', name: 'chatty' });
  assert.is((exit.result as { raw: string }).raw.length, RAW_OUTPUT_CAP);
  assert.is(stdout.length, 100000);
  assert.is((exit.result as { state: string }).state, 'inactive');
});

// Detection, on hosts described by a probe.
function host(over: Partial<HostProbe> & { commands?: string[]; dirs?: string[]; files?: string[] }): HostProbe {
  const { commands = [], dirs = [], files = [], ...rest } = over;
  return {
    platform: 'linux',
    pid1Name: () => 'init',
    exists: (p) => files.includes(p) || dirs.includes(p),
    isDirectory: (p) => dirs.includes(p),
    which: (c) => (commands.includes(c) ? `/usr/bin/${c}` : undefined),
    ...rest,
  };
}
const auto = { manager: 'auto', initDir: '/etc/init.d' };

test('detection (auto): systemd as PID 1 with systemctl; else SysV by the init dir; launchd on macOS; else none', () => {
  assert.is(detectServiceManager(auto, host({ pid1Name: () => 'systemd', commands: ['systemctl'], dirs: ['/etc/init.d'] })).name, 'systemd');
  assert.is(detectServiceManager(auto, host({ files: ['/run/systemd/system'], commands: ['systemctl'] })).name, 'systemd');
  // systemctl installed without systemd running (a container): SysV scripts, not systemctl.
  assert.is(detectServiceManager(auto, host({ commands: ['systemctl'], dirs: ['/etc/init.d'] })).name, 'sysv');
  assert.is(detectServiceManager(auto, host({ pid1Name: () => 'systemd', dirs: ['/etc/init.d'] })).name, 'sysv');
  assert.is(detectServiceManager({ manager: 'auto', initDir: '/opt/rc' }, host({ dirs: ['/opt/rc'] })).name, 'sysv');
  assert.is(detectServiceManager(auto, host({ platform: 'darwin', commands: ['launchctl'] })).name, 'launchd');
  assert.is(detectServiceManager(auto, host({})).name, 'none');
  assert.is(detectServiceManager(auto, host({ pid1Name: () => undefined, commands: ['systemctl'] })).name, 'none');
});

test('detection (named): the host must have it, or agentd refuses to start with why', () => {
  assert.is(detectServiceManager({ manager: 'systemd', initDir: '/etc/init.d' }, host({ commands: ['systemctl'] })).name, 'systemd');
  assert.is(detectServiceManager({ manager: 'sysv', initDir: '/srv/init' }, host({ dirs: ['/srv/init'] })).name, 'sysv');
  assert.is(detectServiceManager({ manager: 'launchd', initDir: '/etc/init.d' }, host({ commands: ['launchctl'] })).name, 'launchd');
  assert.throws(() => detectServiceManager({ manager: 'systemd', initDir: '/etc/init.d' }, host({})), /services\.manager is systemd but systemctl is not on agentd's PATH/);
  assert.throws(() => detectServiceManager({ manager: 'launchd', initDir: '/etc/init.d' }, host({})), /services\.manager is launchd but launchctl is not on agentd's PATH/);
  assert.throws(() => detectServiceManager({ manager: 'sysv', initDir: '/nope' }, host({})), /services\.manager is sysv but services\.initDir \/nope is not a directory/);
  assert.throws(() => detectServiceManager({ manager: 'upstart', initDir: '/etc/init.d' }, host({})), /services\.manager must be one of auto, systemd, sysv, launchd, got "upstart"/);
});

test('config: services.manager and services.initDir are checked at load', () => {
  const keys = writeKeysFile(dir);
  const cfg = loadAgentdConfig(undefined, { 'auth.keysFile': keys }, {});
  assert.equal(cfg.services, { manager: 'auto', initDir: '/etc/init.d' });
  assert.is(loadAgentdConfig(undefined, { 'auth.keysFile': keys }, { OPS_SERVICES_MANAGER: 'sysv' }).services.manager, 'sysv');
  assert.throws(() => loadAgentdConfig(undefined, { 'auth.keysFile': keys }, { OPS_SERVICES_MANAGER: 'upstart' }), /services\.manager must be one of auto, systemd, sysv, launchd, got "upstart"/);
  assert.throws(() => loadAgentdConfig(undefined, { 'auth.keysFile': keys }, { OPS_SERVICES_INIT_DIR: 'init.d' }), /services\.initDir must be an absolute path, got "init\.d"/);
});

test('agentd process: a named manager the host lacks stops it at start (exit 1); SysV from the config serves runs', async () => {
  const keysFile = writeKeysFile(dir);
  const missing = startAgentd(['--keys-file', keysFile, '--listen', '127.0.0.1:0'], { OPS_SERVICES_MANAGER: 'sysv', OPS_SERVICES_INIT_DIR: join(dir, 'missing') });
  agents.push(missing);
  assert.is(await missing.exited, 1);
  assert.match(missing.stderr(), /services\.manager is sysv but services\.initDir .*missing is not a directory/);

  const { agentd, baseUrl } = await startServingAgentd(['--keys-file', keysFile], { OPS_SERVICES_MANAGER: 'sysv', OPS_SERVICES_INIT_DIR: initDir });
  agents.push(agentd);
  const health = await request(`${baseUrl}${AGENT_API.health}`, { headers: signedHeaders('GET', AGENT_API.health) });
  assert.is(((await health.body.json()) as { data: AgentHealth }).data.serviceManager, 'sysv');
  const payload = JSON.stringify({ runId: 'proc-status-1', kind: 'service', params: { action: 'status', name: 'websvc' } });
  const res = await request(`${baseUrl}${AGENT_API.exec}`, { method: 'POST', body: payload, headers: signedHeaders('POST', AGENT_API.exec, payload) });
  const events = parseNdjson(await res.body.text());
  const exit = events[events.length - 1] as Exit;
  assert.equal({ status: exit.status, result: exit.result }, { status: 'succeeded', result: { state: 'inactive', raw: 'websvc is not running\n' } });
});

// systemd: only where it really runs; this must not be faked.
function systemdRunning(): { ok: boolean; why: string } {
  const r = spawnSync('systemctl', ['is-system-running'], { encoding: 'utf8' });
  if (r.error) return { ok: false, why: `no systemctl (${r.error.message})` };
  const answer = (r.stdout || r.stderr || '').trim().split('\n')[0];
  const ok = ['running', 'degraded', 'starting', 'initializing', 'maintenance'].includes(r.stdout.trim());
  return { ok, why: `systemctl is-system-running answered ${JSON.stringify(answer)} (exit ${r.status}): this machine has no running systemd` };
}

const systemd = systemdRunning();
test('systemd backend: a running unit is active, an unknown unit is "unknown service"', async () => {
  if (!systemd.ok) {
    console.log(`SKIPPED systemd backend test: ${systemd.why}`);
    return;
  }
  const ex = newExecutor({ serviceManager: systemdManager('systemctl') });
  const journald = await runService(ex, { action: 'status', name: 'systemd-journald.service' });
  assert.is(journald.exit.status, 'succeeded');
  assert.is((journald.exit.result as { state: string }).state, 'active');
  assert.match((journald.exit.result as { raw: string }).raw, /systemd-journald/);
  const unknown = await runService(ex, { action: 'status', name: 'opsctl-test-no-such-unit.service' });
  assert.is(unknown.exit.status, 'error');
  assert.is(unknown.exit.errorCode, 1004);
  assert.match(unknown.exit.error!, /^unknown service opsctl-test-no-such-unit\.service/);
  await ex.shutdown(0);
});

test.run();
