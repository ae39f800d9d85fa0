// The manager's end of the host link: one gRPC port (TLS 1.3) serving Enroll and Connect.
// The manager's main builds it with a backend (contract.ts), starts it, and reaches connected
// hosts through `sessions`.
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import type { HostLinkGatewayOptions, HostSessions } from './contract.js';
import { RequestClientCertCredentials } from './credentials.js';
import { ManagerPki } from './pki.js';
import { HostLinkService } from './service.js';
import { SessionRegistry } from './sessions.js';

/** Keepalive: ping every 30 s, drop a peer that has not answered within 10 s. */
export const SERVER_CHANNEL_OPTIONS: grpc.ServerOptions = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_receive_message_length': 8 * 1024 * 1024,
};

const SHUTDOWN_GRACE_MS = 5_000;

/**
 * Connections the kernel keeps waiting to be accepted. Linux caps it at net.core.somaxconn
 * (4096 by default since 5.4); hosts beyond it while the manager is busy are dropped and retry.
 */
const LISTEN_BACKLOG = 8192;

/** This process's soft limit on open files (Linux: /proc/self/limits), if it can be read. */
export function openFileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft && /^\d+$/.test(soft) ? Number(soft) : undefined;
  } catch {
    return undefined;
  }
}

/** 30 s: fractions of a day are for tests of renewal; hostd renews with a third of the lifetime left. */
export const MIN_CERTIFICATE_DAYS = 30 / 86_400;

function bindAddress(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

export class HostLinkGateway {
  private readonly registry = new SessionRegistry();
  private server?: grpc.Server;
  private listener?: Server;
  private pki?: ManagerPki;
  private boundPort = 0;
  private service?: HostLinkService;

  constructor(private readonly opts: HostLinkGatewayOptions) {
    for (const [key, value] of [['heartbeatSeconds', opts.heartbeatSeconds], ['metricsSeconds', opts.metricsSeconds]] as const) {
      if (!Number.isInteger(value) || value < 1) throw new Error(`host link: ${key} must be a whole number ≥ 1, got ${value}`);
    }
    if (!(opts.certificateDays >= MIN_CERTIFICATE_DAYS)) {
      throw new Error(`host link: certificateDays must be at least ${MIN_CERTIFICATE_DAYS} (30 seconds), got ${opts.certificateDays}`);
    }
  }

  get sessions(): HostSessions { return this.registry; }

  /** The bound port (the real one when `port` was 0); 0 before start(). */
  get port(): number { return this.boundPort; }

  /** How many messages of a kind hosts have sent on their streams since start (after hello). */
  received(kind: string): number { return this.service?.received.get(kind) ?? 0; }

  /** The CA certificate (PEM) hosts must trust; creates the PKI on first use. */
  caPem(): string { return this.loadPki().caCertPem; }

  /** sha256 of the CA certificate's DER, lowercase hex: what `hostd --ca-hash` takes. */
  caHash(): string { return this.loadPki().caHash(); }

  private loadPki(): ManagerPki {
    this.pki ??= ManagerPki.loadOrCreate({ pkiDir: this.opts.pkiDir, advertiseHost: this.opts.advertiseHost });
    return this.pki;
  }

  async start(): Promise<void> {
    if (this.server) throw new Error('host link gateway already started');
    const pki = this.loadPki();
    const server = new grpc.Server(SERVER_CHANNEL_OPTIONS);
    this.service = new HostLinkService({
      pki, backend: this.opts.backend, sessions: this.registry, log: this.opts.log,
      heartbeatSeconds: this.opts.heartbeatSeconds, metricsSeconds: this.opts.metricsSeconds,
      certificateDays: this.opts.certificateDays, acceptsTaskEvents: this.opts.acceptsTaskEvents,
    });
    this.service.addToServer(server);
    const address = bindAddress(this.opts.host, this.opts.port);
    const credentials = new RequestClientCertCredentials(pki.caCertPem, pki.serverChainPem(), pki.serverKeyPem);
    // Our own listener, handing each connection to gRPC: grpc-js listens with Node's default
    // backlog of 511, and a fleet reconnecting at once overflowed it — the kernel dropped the
    // handshakes and each host retried after 1, 3, 7… s, so a restart under 10,000 hosts took minutes.
    const injector = server.createConnectionInjector(credentials);
    const listener = createServer((socket) => injector.injectConnection(socket));
    this.boundPort = await new Promise<number>((resolve, reject) => {
      listener.once('error', (err) => reject(new Error(`binding the host link gRPC port ${address}: ${err.message}`, { cause: err })));
      listener.listen({ host: this.opts.host || undefined, port: this.opts.port, backlog: LISTEN_BACKLOG }, () => resolve((listener.address() as AddressInfo).port));
    });
    this.server = server;
    this.listener = listener;
    // Accepting can fail while the process is out of file descriptors; say so, at most every 10 s.
    let warnedAt = 0;
    listener.on('error', (err) => {
      if (Date.now() - warnedAt < 10_000) return;
      warnedAt = Date.now();
      this.opts.log.warn({ err }, 'host link: accepting a connection failed');
    });
    // Every connected host holds one file descriptor: the soft limit bounds how many hosts fit.
    const fdLimit = openFileLimit();
    this.opts.log.info({ address: bindAddress(this.opts.host, this.boundPort), caHash: pki.caHash(), openFileLimit: fdLimit }, 'host link listening');
    if (fdLimit !== undefined && fdLimit < 4096) {
      this.opts.log.warn({ openFileLimit: fdLimit }, `the open-file limit (ulimit -n ${fdLimit}) allows fewer than ${fdLimit} connected hosts; raise it (LimitNOFILE= in a systemd unit) for a large fleet`);
    }
  }

  /** Ends every host stream, then shuts the server down (forcefully after a grace period). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.listener?.close();
    this.listener = undefined;
    for (const session of this.registry.all()) session.close('manager shutting down');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { server.forceShutdown(); resolve(); }, SHUTDOWN_GRACE_MS);
      server.tryShutdown(() => { clearTimeout(timer); resolve(); });
    });
    this.boundPort = 0;
    this.opts.log.info('host link stopped');
  }
}
