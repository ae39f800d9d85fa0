// The link to hostd: a JSON-RPC peer over hostd's Unix socket. agentd heartbeats on connect and
// every heartbeatSeconds, and answers agent.health and agent.shutdown. hostd restarts (and
// updates) independently of agentd, so a missing or closed socket is normal: keep running and
// try again every `retryMs` until hostd is back.
import { connect, type Socket } from 'node:net';
import { JSONRPC_METHODS, type AgentHealthReport, type AgentHeartbeatParams } from '../proto/jsonrpc.js';
import { JsonRpcPeer } from '../lib/jsonrpc-peer.js';
import type { Logger } from '../lib/log.js';
import type { Subsystem } from '../lib/run-group.js';

export interface HostdLinkOptions {
  socketPath: string;
  heartbeatSeconds: number;
  log: Logger;
  /** Current numbers for heartbeats and health reports. */
  status: () => AgentHeartbeatParams;
  /** Called when hostd asks agentd to exit (agent.shutdown); the link answers first. */
  onShutdown: () => void;
  retryMs?: number;
}

export class HostdLink implements Subsystem {
  readonly name = 'hostd link';
  private peer?: JsonRpcPeer;
  private socket?: Socket;
  private heartbeatTimer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private stopped = false;
  /** Logs the first failure of an outage at warn, the retries at debug, so a long outage is not noise. */
  private outageLogged = false;

  constructor(private readonly opts: HostdLinkOptions) {}

  get connected(): boolean { return this.peer?.isOpen ?? false; }

  async start(): Promise<void> {
    this.stopped = false;
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeatTimer);
    this.peer?.close();
    this.socket?.destroy();
    this.peer = undefined;
    this.socket = undefined;
  }

  private connect(): void {
    if (this.stopped) return;
    const socket = connect(this.opts.socketPath);
    this.socket = socket;
    socket.once('connect', () => this.onConnected(socket));
    socket.once('error', (err) => {
      if (this.peer) return; // errors of an established link surface as 'close'
      const fields = { socket: this.opts.socketPath, err: (err as Error).message };
      if (this.outageLogged) this.opts.log.debug(fields, 'hostd socket still unavailable; retrying');
      else this.opts.log.warn(fields, `cannot reach hostd; retrying every ${this.retryDelay()} ms`);
      this.outageLogged = true;
      socket.destroy();
      this.scheduleRetry();
    });
  }

  private onConnected(socket: Socket): void {
    if (this.stopped) { socket.destroy(); return; }
    this.outageLogged = false;
    const peer = new JsonRpcPeer(socket, {
      [JSONRPC_METHODS.health]: (): AgentHealthReport => ({ status: 'ok', ...this.opts.status() }),
      [JSONRPC_METHODS.shutdown]: () => {
        this.opts.log.info('hostd asked agentd to shut down');
        // Answer before exiting, so hostd's call does not fail with a closed connection.
        setImmediate(() => this.opts.onShutdown());
        return { ok: true };
      },
    });
    this.peer = peer;
    peer.on('socket-error', (err: Error) => this.opts.log.debug({ err: err.message }, 'hostd socket error'));
    peer.on('close', () => {
      clearInterval(this.heartbeatTimer);
      if (this.peer === peer) this.peer = undefined;
      if (this.stopped) return;
      this.opts.log.warn({ socket: this.opts.socketPath }, 'lost the connection to hostd; reconnecting');
      this.outageLogged = true;
      this.scheduleRetry();
    });
    this.opts.log.info({ socket: this.opts.socketPath }, 'connected to hostd');
    this.heartbeat();
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.opts.heartbeatSeconds * 1000);
  }

  private heartbeat(): void {
    this.peer?.notify(JSONRPC_METHODS.heartbeat, this.opts.status());
  }

  private retryDelay(): number { return this.opts.retryMs ?? 2000; }

  private scheduleRetry(): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), this.retryDelay());
  }
}
