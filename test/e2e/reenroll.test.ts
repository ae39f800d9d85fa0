// End to end: a host re-enrolling under a known name with a new key is held until an operator
// approves it. The manager, the first hostd (and its agentd) are real processes (local-stack);
// the second and third hostd are real processes with fresh data directories and new tokens.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, runBin, startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import type { NodeDetail } from '../../proto/rest/nodes.js';
import { freePorts } from '../helpers/ports.js';
import { pollUntil as until } from '../helpers/poll.js';
import { killAllUnder, startHostd, waitUntil, type HostdRun } from '../hostd/helpers.js';

const NAME = 'reenroll-node';
const dataDir = mkdtempSync(join(tmpdir(), 'ops-e2e-reenroll-'));
const configHome = mkdtempSync(join(tmpdir(), 'ops-e2e-reenroll-cfg-'));
let stack: LocalStack;
let agentPorts: number[];
const runs: HostdRun[] = [];
const FAST = { OPS_HOSTLINK_HEARTBEAT_SECONDS: '2', OPS_HOSTLINK_OFFLINE_AFTER_SECONDS: '8' };

test.before(async () => {
  const [httpPort, grpcPort, agentPort, ...more] = await freePorts(5);
  agentPorts = more;
  stack = await startLocalStack({ dataDir, httpPort, grpcPort, agentPort, nodeName: NAME, env: FAST });
});

test.after(async () => {
  await killAllUnder(join(dataDir, 'again'), runs);
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(configHome, { recursive: true, force: true });
});

const opsctl = (args: string[], token = stack.token) =>
  runBin('opsctl', args, { ...process.env, XDG_CONFIG_HOME: configHome, OPSCTL_SERVER: stack.httpUrl, OPSCTL_TOKEN: token }, 30_000);

const node = async (): Promise<NodeDetail> => (await api<NodeDetail>(stack.httpUrl, stack.token, 'GET', `/nodes/${NAME}`)).body.data;

/** A hostd with a fresh data directory and a new one-use token, under the enrolled name. */
async function newHost(dir: string, agentPort: number): Promise<HostdRun> {
  const created = await api<{ token: string; caHash: string }>(stack.httpUrl, stack.token, 'POST', '/enrollment-tokens', { uses: 1, ttlSeconds: 600 });
  const run = startHostd(['--manager', stack.grpcAddress, '--data-dir', join(dataDir, 'again', dir), '--agent-listen', `127.0.0.1:${agentPort}`,
    '--name', NAME, '--ca-hash', created.body.data.caHash], { ...process.env, ...FAST, OPS_ENROLL_TOKEN: created.body.data.token, OPS_AGENT_STOP_ON_EXIT: 'true', OPS_LOG_LEVEL: 'info' });
  runs.push(run);
  return run;
}

async function userToken(username: string, role: string): Promise<string> {
  const password = 'correct horse battery staple 42';
  const created = await api(stack.httpUrl, stack.token, 'POST', '/users', { username, role, password });
  assert.is(created.status, 201, JSON.stringify(created.body));
  const login = await api<{ token: string }>(stack.httpUrl, undefined, 'POST', '/auth/login', { username, password });
  return login.body.data.token;
}

test('approve with nothing pending is a clear error (409 → exit 1)', async () => {
  const r = await opsctl(['nodes', 'approve', NAME, '--yes']);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`node ${NAME} has no pending enrollment request to approve`));
  const d = await opsctl(['nodes', 'deny', NAME]);
  assert.is(d.code, 1);
  assert.match(d.stderr, /no pending enrollment request to deny/);
});

test('a second hostd under the same name is held; deny drops it and that hostd gives up', async () => {
  const held = await newHost('denied', agentPorts[0]);
  await waitUntil('"waiting for approval" in the log', () => held.stdout().includes('waiting for approval'), 30_000);
  const pending = await until('the pending request', async () => (await node()).pendingEnrollment ?? undefined);
  const logged = held.stdout().split('\n').find((l) => l.includes('waiting for approval'))!;
  assert.is(JSON.parse(logged).keyFingerprint, pending.keyFingerprint, 'hostd logs the fingerprint the operator sees');
  assert.is((await node()).status, 'online', 'the enrolled host keeps its node meanwhile');
  const ls = await opsctl(['nodes', 'ls', '--json']);
  assert.ok((JSON.parse(ls.stdout) as { name: string; pendingApproval: boolean }[]).find((n) => n.name === NAME)?.pendingApproval);
  const show = await opsctl(['nodes', 'show', NAME]);
  assert.match(show.stdout, new RegExp(`pending_key_fingerprint\\t${pending.keyFingerprint}`));

  const deny = await opsctl(['nodes', 'deny', NAME]);
  assert.is(deny.code, 0, deny.stderr);
  assert.is((await node()).pendingEnrollment, null);
  const exit = await held.exit;
  assert.is(exit.code, 1);
  assert.match(held.stderr(), /enrollment refused after waiting for approval \(was the request denied\?\)/);
});

test('held again; a viewer or operator cannot approve (403); an admin approves: the new hostd connects, the old one is refused', async () => {
  const before = await node();
  const fresh = await newHost('approved', agentPorts[1]);
  await waitUntil('"waiting for approval"', () => fresh.stdout().includes('waiting for approval'), 30_000);
  await until('the pending request', async () => (await node()).pendingEnrollment ?? undefined);

  for (const role of ['viewer', 'operator']) {
    const r = await opsctl(['nodes', 'approve', NAME, '--yes'], await userToken(`e2e-${role}`, role));
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, /nodes:approve/);
  }
  const r = await opsctl(['nodes', 'approve', NAME, '--yes']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`Approved the new key of node ${NAME}`));

  await waitUntil('the new hostd to collect its certificate', () => fresh.stdout().includes('enrolled: approved by an operator'), 45_000);
  const after = await until('the node online again with the new host', async () => {
    const n = await node();
    return n.status === 'online' && n.pendingEnrollment === null && n.certificateExpiresAt ? n : undefined;
  });
  assert.is(after.id, before.id, 'same node: id and history kept');
  // The first hostd's stream was ended and its certificate is refused from now on.
  await waitUntil('the old hostd to be refused', () => readFileSync(join(stack.logDir, 'hostd.log'), 'utf8').includes('the manager refused this host\'s certificate'), 45_000);
  assert.ok(fresh.child.exitCode === null, 'the new hostd runs on');
});

test.run();
