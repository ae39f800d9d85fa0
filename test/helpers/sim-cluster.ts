// Replicas behind HAProxy (scripts/cluster-stack.ts) on a scratch MariaDB database and Redis, with
// simulated hosts enrolled through the balancer: the set-up of the replica fault suites
// (test/cluster/), and the tear-down that leaves no process, directory or database behind.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startClusterStack, type ClusterStack } from '../../scripts/cluster-stack.js';
import { api } from '../../scripts/local-stack.js';
import { createScratchDatabase, dropDatabase } from '../../server/db/mysql-admin.js';
import { ensureBuilt } from '../cli/run-opsctl.js';
import { startSim, type SimProcess } from './sim.js';

export const CLUSTER_MYSQL_URL = process.env.OPS_TEST_MYSQL_URL ?? '';
export const CLUSTER_REDIS_URL = process.env.OPS_TEST_REDIS_URL ?? '';
/** Whether the replica fault suites can run here (else they register one skipped test saying what they need). */
export const clusterTestsCan = (): boolean => Boolean(CLUSTER_MYSQL_URL && CLUSTER_REDIS_URL && existsSync('/usr/sbin/haproxy'));

export interface SimCluster {
  cluster: ClusterStack;
  /** An admin's bearer token. */
  token: string;
  sim: SimProcess;
}

export interface SimClusterOptions {
  /** Scratch database and temporary directory names start with this. */
  name: string;
  hosts: number;
  leaseMs: number;
  /** More simulator flags (latency, procs, key pool…); manager, directory, token and CA are given. */
  simArgs: string[];
  readyTimeoutMs?: number;
}

/** Runs `body` against a fresh cluster with `hosts` simulated hosts ready, then stops and removes everything. */
export async function withSimCluster(opts: SimClusterOptions, body: (c: SimCluster) => Promise<void>): Promise<void> {
  ensureBuilt();
  const db = await createScratchDatabase(CLUSTER_MYSQL_URL, `opsctl_${opts.name.replace(/-/g, '_')}`);
  const dir = mkdtempSync(join(tmpdir(), `opsctl-${opts.name}-`));
  let cluster: ClusterStack | undefined;
  let sim: SimProcess | undefined;
  try {
    cluster = await startClusterStack({ databaseUrl: db.url, redisUrl: CLUSTER_REDIS_URL, dir: join(dir, 'cluster'), leaseMs: opts.leaseMs });
    const token = (await api<{ token: string }>(cluster.restUrl, undefined, 'POST', '/auth/login', cluster.admin)).body.data.token;
    const enroll = (await api<{ token: string; caHash: string }>(cluster.restUrl, token, 'POST', '/enrollment-tokens', { uses: opts.hosts, ttlSeconds: 600 })).body.data;
    writeFileSync(join(dir, 'token'), enroll.token);
    sim = startSim(['--manager', cluster.grpcAddress, '--dir', join(dir, 'sim'), '--hosts', String(opts.hosts),
      '--token-file', join(dir, 'token'), '--ca-hash', enroll.caHash, ...opts.simArgs]);
    await sim.waitFor('ready', opts.readyTimeoutMs ?? 60_000);
    await body({ cluster, token, sim });
  } finally {
    await sim?.stop();
    await cluster?.stop();
    if (process.env.OPS_TEST_KEEP) console.log(`  kept ${dir}`); else rmSync(dir, { recursive: true, force: true });
    await dropDatabase(CLUSTER_MYSQL_URL, db.name);
  }
}
