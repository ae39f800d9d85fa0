// Several managers as replicas behind HAProxy, on loopback: N `opsctl server` processes on one
// MySQL/MariaDB database and one Redis, and HAProxy (Debian's package) balancing TCP to them — the
// REST port and the hosts' gRPC port (mutual TLS passes through untouched). Used by
// `npm run cluster` (scripts/cluster.ts) and the replica fault tests, so both run the same path.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from '../test/helpers/ports.js';
import { binPath, MANAGER_NODE_FLAGS, readInitialAdmin } from './local-stack.js';

export interface ClusterStackOptions {
  /** mysql://… of an existing, empty or opsctl database. */
  databaseUrl: string;
  redisUrl: string;
  /** Data directories (replica-<i>/), HAProxy's config and the logs go here. */
  dir: string;
  replicas?: number;
  /** The balancer's ports (0 or unset: free ones). */
  restPort?: number;
  grpcPort?: number;
  leaseMs?: number;
  /** Base64 of 32 bytes; default: a new one (kept in the returned stack). */
  clusterKey?: string;
  redisPrefix?: string;
  logLevel?: string;
}

export interface ReplicaProcess {
  index: number;
  proc: ChildProcess;
  restUrl: string;
  restPort: number;
  grpcPort: number;
  dir: string;
}

export interface ClusterStack {
  /** The balancer: what opsctl and hosts use. */
  restUrl: string;
  grpcAddress: string;
  replicas: ReplicaProcess[];
  admin: { username: string; password: string };
  clusterKey: string;
  /** Starts replica `index` again (after a kill), on the same ports and data directory. */
  restartReplica(index: number): Promise<ReplicaProcess>;
  stop(): Promise<void>;
}

const HAPROXY = '/usr/sbin/haproxy';

function haproxyConfig(restPort: number, grpcPort: number, replicas: { restPort: number; grpcPort: number }[]): string {
  const servers = (kind: 'rest' | 'grpc') => replicas.map((r, i) =>
    // Checked every 500 ms: a dead replica is out of rotation within about a second.
    `  server replica-${i} 127.0.0.1:${kind === 'rest' ? r.restPort : r.grpcPort} check inter 500 fall 2 rise 2`).join('\n');
  return `global
  # Both sides of every connection count against the open-file limit (20,000 on some machines).
  maxconn 8000
defaults
  mode tcp
  timeout connect 2s
  timeout client 1h
  timeout server 1h
  # A connection refused by a dead replica is retried on another at once (not on the same one first).
  option redispatch 1
  retries 3
frontend rest
  bind 127.0.0.1:${restPort}
  default_backend rest
backend rest
  balance roundrobin
${servers('rest')}
frontend grpc
  bind 127.0.0.1:${grpcPort}
  default_backend grpc
backend grpc
  balance leastconn
${servers('grpc')}
`;
}

export async function startClusterStack(opts: ClusterStackOptions): Promise<ClusterStack> {
  // Checked before any replica starts, so a missing balancer leaves no replica running.
  if (!existsSync(HAPROXY)) throw new Error(`${HAPROXY} is missing: install Debian's haproxy package (apt-get install haproxy)`);
  const count = opts.replicas ?? 2;
  const ports = await freePorts(2 * count + 2);
  const restPort = opts.restPort || ports[2 * count];
  const grpcPort = opts.grpcPort || ports[2 * count + 1];
  const clusterKey = opts.clusterKey ?? randomBytes(32).toString('base64');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OPS_DATABASE_URL: opts.databaseUrl, OPS_REDIS_URL: opts.redisUrl, OPS_REDIS_PREFIX: opts.redisPrefix ?? `opsctl-${randomUUID().slice(0, 8)}:`,
    OPS_REDIS_LEASE_MS: String(opts.leaseMs ?? 6000), OPS_CLUSTER_KEY: clusterKey,
    // Hosts dial the balancer, whichever replica issued their certificate.
    OPS_GRPC_ADVERTISE: `127.0.0.1:${grpcPort}`, OPS_HTTP_HOST: '127.0.0.1', OPS_GRPC_HOST: '127.0.0.1', OPS_LOG_LEVEL: opts.logLevel ?? 'warn',
  };
  mkdirSync(opts.dir, { recursive: true });
  const layout = Array.from({ length: count }, (_, i) => ({ restPort: ports[2 * i], grpcPort: ports[2 * i + 1], dir: join(opts.dir, `replica-${i}`) }));

  const startReplica = (index: number): Promise<ReplicaProcess> => new Promise((resolve, reject) => {
    const { restPort: rp, grpcPort: gp, dir } = layout[index];
    // The replica's JSON log (standard output) goes to <dir>/replica-<i>.log.
    const log = openSync(join(opts.dir, `replica-${index}.log`), 'a');
    const proc = spawn(process.execPath, [...MANAGER_NODE_FLAGS, binPath('opsctl'), 'server'], {
      env: { ...env, OPS_DATA_DIR: dir, OPS_HTTP_PORT: String(rp), OPS_GRPC_PORT: String(gp) }, stdio: ['ignore', log, 'pipe'],
    });
    closeSync(log);
    let err = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`replica ${index} did not start within 60 s: ${err}`)); }, 60_000);
    proc.stderr!.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-20_000);
      if (/listening: REST /.test(err)) { clearTimeout(timer); resolve({ index, proc, restUrl: `http://127.0.0.1:${rp}`, restPort: rp, grpcPort: gp, dir }); }
    });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`replica ${index} exited (${code}) before listening: ${err}`)); });
  });

  const replicas: ReplicaProcess[] = [];
  let haproxy: ChildProcess | undefined;
  const stop = async () => {
    haproxy?.kill('SIGKILL');
    await Promise.all(replicas.map((r) => new Promise<void>((resolve) => {
      if (r.proc.exitCode !== null || r.proc.signalCode !== null) return resolve();
      r.proc.once('exit', () => resolve());
      r.proc.kill('SIGTERM');
      setTimeout(() => r.proc.kill('SIGKILL'), 10_000).unref();
    })));
  };
  try {
    // One after the other: the first runs the migrations and puts the shared secrets in the database.
    for (let i = 0; i < count; i++) replicas.push(await startReplica(i));
    const config = join(opts.dir, 'haproxy.cfg');
    writeFileSync(config, haproxyConfig(restPort, grpcPort, layout));
    haproxy = spawn(HAPROXY, ['-db', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let haproxyErr = '';
    haproxy.stderr!.on('data', (d: Buffer) => { haproxyErr = (haproxyErr + d.toString()).slice(-10_000); });
    const restUrl = `http://127.0.0.1:${restPort}`;
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (haproxy.exitCode !== null) throw new Error(`haproxy exited: ${haproxyErr}`);
      const up = await fetch(`${restUrl}/api/v1/health`).then((r) => r.ok, () => false);
      if (up) break;
      if (Date.now() > deadline) throw new Error(`the balancer did not answer within 15 s: ${haproxyErr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return {
      restUrl, grpcAddress: `127.0.0.1:${grpcPort}`, replicas, admin: readInitialAdmin(layout[0].dir), clusterKey,
      async restartReplica(index) {
        const r = await startReplica(index);
        replicas[index] = r;
        return r;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
