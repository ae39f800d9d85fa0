// The JSON-RPC link to hostd over a real Unix socket, with this test playing hostd's side:
// heartbeats on connect and periodically, agent.health, surviving hostd going away, finding a
// restarted hostd again, and agent.shutdown.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server, type Socket } from 'node:net';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { AGENT_API } from '../../proto/agent-api.js';
import { JSONRPC_METHODS, type AgentHealthReport, type AgentHeartbeatParams } from '../../proto/jsonrpc.js';
import { JsonRpcPeer } from '../../lib/jsonrpc-peer.js';
import { signedHeaders, tempDir, waitUntil, writeKeysFile } from './helpers/fixtures.js';
import { startServingAgentd, type AgentdProcess } from './helpers/agentd-process.js';

const dir = tempDir();
const keysFile = writeKeysFile(dir);
const socketPath = join(dir, 'hostd.sock');
const pidFile = join(dir, 'agentd.pid');

/** A stand-in for hostd's JSON-RPC server: records heartbeats per connection. */
class FakeHostd {
  readonly heartbeats: { connection: number; params: AgentHeartbeatParams }[] = [];
  readonly peers: JsonRpcPeer[] = [];
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  async listen(): Promise<void> {
    rmSync(socketPath, { force: true });
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      const connection = this.peers.length;
      this.peers.push(new JsonRpcPeer(socket, {
        [JSONRPC_METHODS.heartbeat]: (params) => { this.heartbeats.push({ connection, params: params as AgentHeartbeatParams }); },
      }));
    });
    await new Promise<void>((resolve) => this.server!.listen(socketPath, resolve));
  }

  /** hostd dies: the listening socket and every connection go away. */
  async kill(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    rmSync(socketPath, { force: true });
  }

  get latestPeer(): JsonRpcPeer { return this.peers[this.peers.length - 1]; }
}

const hostd = new FakeHostd();
let agentd: AgentdProcess;
let baseUrl: string;

test.after(async () => {
  await agentd?.stop();
  await hostd.kill().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

test('agentd started before hostd keeps retrying, then heartbeats as soon as it connects', async () => {
  ({ agentd, baseUrl } = await startServingAgentd(
    ['--keys-file', keysFile, '--hostd-socket', socketPath, '--pid-file', pidFile],
    { OPS_HEARTBEAT_SECONDS: '1' },
  ));
  await agentd.waitForLog((l) => l.msg === 'cannot reach hostd; retrying every 2000 ms', 'the first failed connect');
  await hostd.listen();
  await waitUntil('the first heartbeat', () => hostd.heartbeats.length > 0);
  const hb = hostd.heartbeats[0].params;
  assert.is(hb.pid, agentd.child.pid);
  assert.is(`http://${hb.httpAddress}`, baseUrl);
  assert.type(hb.version, 'string');
  assert.is(hb.running, 0);
  assert.is(hb.queued, 0);
  assert.type(hb.uptimeSeconds, 'number');
});

test('heartbeats repeat every heartbeatSeconds on the same connection', async () => {
  await waitUntil('three heartbeats', () => hostd.heartbeats.filter((h) => h.connection === 0).length >= 3);
  assert.is(hostd.peers.length, 1, 'one connection only');
});

test('agent.health answers with the report', async () => {
  const report = await hostd.latestPeer.call<AgentHealthReport>(JSONRPC_METHODS.health);
  assert.is(report.status, 'ok');
  assert.is(report.pid, agentd.child.pid);
  assert.is(`http://${report.httpAddress}`, baseUrl);
  const err = await hostd.latestPeer.call('agent.nope').catch((e: Error) => e);
  assert.match((err as Error).message, /method not found/);
});

test('hostd going away does not stop agentd; a restarted hostd is found again', async () => {
  await hostd.kill();
  await agentd.waitForLog((l) => l.msg === 'lost the connection to hostd; reconnecting', 'agentd to notice hostd is gone');
  // Still serving while hostd is away.
  const res = await request(`${baseUrl}${AGENT_API.health}`, { headers: signedHeaders('GET', AGENT_API.health) });
  assert.is(res.statusCode, 200);
  await res.body.text();
  assert.is(agentd.child.exitCode, null);
  const before = hostd.heartbeats.length;
  await hostd.listen();
  await waitUntil('a heartbeat on the new connection', () => hostd.heartbeats.slice(before).some((h) => h.connection === 1));
  assert.is(hostd.heartbeats[hostd.heartbeats.length - 1].params.pid, agentd.child.pid);
});

test('agent.shutdown: answered, then agentd exits 0 and removes its pid file', async () => {
  assert.ok(existsSync(pidFile));
  const result = await hostd.latestPeer.call(JSONRPC_METHODS.shutdown);
  assert.equal(result, { ok: true });
  assert.is(await agentd.exited, 0);
  assert.not.ok(existsSync(pidFile));
});

test.run();
