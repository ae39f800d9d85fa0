// `npm run cluster`: opsctl as replicas on this machine, to try it — two `opsctl server` processes
// on MariaDB (database opsctl_cluster, created if missing) and Redis, both on loopback, behind
// HAProxy (REST 127.0.0.1:8540, host link 127.0.0.1:8541). opsctl and hosts use the balancer and
// do not know there are two. Ctrl-C stops all of it; the database stays (drop it to start over).
// Needs MariaDB and Redis running and haproxy installed (apt-get install haproxy).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createFileOnceSync } from '../lib/atomic-write.js';
import { createDatabaseIfMissing } from '../server/db/mysql-admin.js';
import { startClusterStack } from './cluster-stack.js';

/** A URL naming an existing database on the server (the cluster's own database is made beside it). */
const MYSQL_SERVER = process.env.OPS_CLUSTER_MYSQL ?? 'mysql://root@127.0.0.1:3306/test';
const REDIS_URL = process.env.OPS_CLUSTER_REDIS ?? 'redis://127.0.0.1:6379';
const dataDir = resolve(process.env.OPS_CLUSTER_DATA_DIR ?? 'data/cluster');

async function main(): Promise<void> {
  if (!existsSync('/usr/sbin/haproxy')) throw new Error('haproxy is not installed: apt-get install haproxy');
  const databaseUrl = await createDatabaseIfMissing(MYSQL_SERVER, 'opsctl_cluster');
  console.error(`Starting two replicas on ${databaseUrl} and ${REDIS_URL}, behind HAProxy (data in ${dataDir}) ...`);
  const cluster = await startClusterStack({
    databaseUrl, redisUrl: REDIS_URL, dir: dataDir, replicas: 2,
    restPort: Number(process.env.OPS_CLUSTER_REST_PORT ?? 8540), grpcPort: Number(process.env.OPS_CLUSTER_GRPC_PORT ?? 8541),
    // The same key on every start, so the replicas can open the secrets they stored last time.
    clusterKey: process.env.OPS_CLUSTER_KEY ?? keyFromDataDir(dataDir),
  });
  console.log(`
opsctl replicas are up.

  balancer   ${cluster.restUrl}  (REST and web UI)   ${cluster.grpcAddress}  (host link)
${cluster.replicas.map((r) => `  replica ${r.index}  ${r.restUrl}  (log ${dataDir}/replica-${r.index}.log)`).join('\n')}
  admin      user ${cluster.admin.username}, password ${cluster.admin.password}

Try, in another terminal:

  export PATH="${resolve('bin')}:$PATH"
  opsctl login --server ${cluster.restUrl} --username ${cluster.admin.username} --password ${cluster.admin.password}
  opsctl server status                             # both replicas, and which one leads
  opsctl nodes token create --uses 100 --ttl 1h    # then: npm run sim -- --manager ${cluster.grpcAddress} ...

Press Ctrl-C to stop everything.`);
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    console.error('\nStopping the replicas and HAProxy ...');
    void cluster.stop().then(() => { console.error('Stopped.'); process.exit(0); });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** A cluster key kept beside the replicas' data (mode 0600), made on the first start; real replicas get theirs from configuration. */
function keyFromDataDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'cluster.key');
  createFileOnceSync(file, `${randomBytes(32).toString('base64')}\n`, 0o600);
  return readFileSync(file, 'utf8').trim();
}

main().catch((err: Error) => {
  console.error(`Error: ${err.message}`);
  process.exit(1);
});
