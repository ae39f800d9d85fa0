// hostd's JSON-RPC endpoint for agentd: a Unix socket in the data directory, mode 0600 so only
// hostd's user can talk to it. agentd connects (and reconnects) on its own; hostd only listens.
import { EventEmitter } from 'node:events';
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { JsonRpcPeer } from '../lib/jsonrpc-peer.js';
import type { Logger } from '../lib/log.js';
import { JSONRPC_METHODS, type AgentHealthReport, type AgentHeartbeatParams } from '../proto/jsonrpc.js';

function isHeartbeat(p: unknown): p is AgentHeartbeatParams {
  const h = p as AgentHeartbeatParams | null;
  return !!h && typeof h === 'object' && typeof h.version === 'string' && typeof h.pid === 'number';
}

/** True when something is accepting connections on the socket (another hostd on this data dir). */
function socketInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => { probe.destroy(); resolve(true); });
    probe.once('error', () => resolve(false));
  });
}

/**
 * Events: 'heartbeat' (params: AgentHeartbeatParams), 'connected' (), 'disconnected' ().
 * Only the newest connection counts; an older one (a previous agentd) is closed.
 */
export class AgentSocket extends EventEmitter {
  private server?: Server;
  private peer?: JsonRpcPeer;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly path: string, private readonly log: Logger) { super(); }

  get connected(): boolean { return this.peer?.isOpen ?? false; }

  async start(): Promise<void> {
    if (existsSync(this.path)) {
      if (await socketInUse(this.path)) {
        throw new Error(`${this.path} is in use: is another hostd running with this data directory?`);
      }
      rmSync(this.path, { force: true }); // left behind by a hostd that did not exit cleanly
    }
    const server = createServer((socket) => this.onConnection(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`listening on ${this.path}: ${err.message}`, { cause: err })));
      server.listen(this.path, () => resolve());
    });
    chmodSync(this.path, 0o600);
    server.on('error', (err) => this.log.error({ err }, 'agent socket error'));
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.peer = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(this.path, { force: true });
  }

  /** Asks the connected agentd for its health; undefined when none is connected or it fails. */
  async health(timeoutMs = 5000): Promise<AgentHealthReport | undefined> {
    const peer = this.peer;
    if (!peer?.isOpen) return undefined;
    try {
      return await peer.call<AgentHealthReport>(JSONRPC_METHODS.health, undefined, timeoutMs);
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'agent.health failed');
      return undefined;
    }
  }

  /** Asks agentd to finish and exit; false when it could not be asked. */
  async shutdown(timeoutMs = 5000): Promise<boolean> {
    const peer = this.peer;
    if (!peer?.isOpen) return false;
    try {
      await peer.call(JSONRPC_METHODS.shutdown, undefined, timeoutMs);
      return true;
    } catch {
      return false;
    }
  }

  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    const previous = this.peer;
    const peer = new JsonRpcPeer(socket, {
      [JSONRPC_METHODS.heartbeat]: (params) => {
        if (!isHeartbeat(params)) {
          this.log.warn('ignoring a malformed agent.heartbeat');
          return;
        }
        this.emit('heartbeat', params);
      },
    });
    this.peer = peer;
    if (previous && previous !== peer) previous.close();
    peer.on('socket-error', (err: Error) => this.log.debug({ err: err.message }, 'agent socket connection error'));
    peer.on('close', () => {
      this.sockets.delete(socket);
      if (this.peer === peer) {
        this.peer = undefined;
        this.emit('disconnected');
      }
    });
    this.log.debug('agentd connected to the hostd socket');
    this.emit('connected');
  }
}
