// Replicas behind HAProxy with simulated hosts, and one replica killed (-9) in the middle of a
// fan-out: its hosts reconnect through the balancer to the other replica, which adopts the task;
// every run ends (none lost), none is started twice, and the result is whole. Real processes:
// two `opsctl server`, HAProxy, MariaDB, Redis, the fleet simulator. Needs OPS_TEST_MYSQL_URL,
// OPS_TEST_REDIS_URL and /usr/sbin/haproxy (.ci/run installs it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ClusterView } from '../../proto/rest/cluster.js';
import type { TaskDetail } from '../../proto/rest/tasks.js';
import { api } from '../../scripts/local-stack.js';
import { clusterTestsCan, withSimCluster } from '../helpers/sim-cluster.js';
import { until } from '../server/harness.js';

const HOSTS = 500;

if (!clusterTestsCan()) {
  test('fail-over tests need OPS_TEST_MYSQL_URL, OPS_TEST_REDIS_URL and haproxy (skipped)', () => undefined);
} else {
  test(`kill -9 of the replica running a fan-out to ${HOSTS} hosts: hosts move, the task is adopted, every run ends once`, async () => {
    // Each run takes 1.5-3 s on its host, so the kill lands while runs are in flight.
    const simArgs = ['--procs', '2', '--key-pool', '32', '--report-ms', '500', '--latency', '1500-3000'];
    await withSimCluster({ name: 'failover', hosts: HOSTS, leaseMs: 2000, simArgs, readyTimeoutMs: 120_000 }, async ({ cluster, token, sim }) => {
      const [a, b] = cluster.replicas;
      const held = await until('both replicas to hold hosts', async () => {
        const v = (await api<ClusterView>(a.restUrl, token, 'GET', '/cluster')).body.data;
        const counts = v.replicas.map((r) => r.hosts);
        return counts.length === 2 && counts[0] + counts[1] === HOSTS && counts.every((n) => n > 0) ? counts : undefined;
      }, 30_000);
      console.log(`  hosts per replica through the balancer: ${held.join(' / ')}`);

      // Accepted by replica b, which then dies with the task in flight.
      const created = await api<TaskDetail>(b.restUrl, token, 'POST', '/tasks', { selector: { all: true }, script: 'true', timeoutSeconds: 120 });
      assert.is(created.status, 201, created.body.message);
      const taskId = created.body.data.id;
      await new Promise((r) => setTimeout(r, 500));
      const killedAt = Date.now();
      b.proc.kill('SIGKILL');

      await until('every host back, on the surviving replica', async () => {
        const v = (await api<ClusterView>(a.restUrl, token, 'GET', '/cluster')).body.data;
        return v.replicas.find((r) => r.id === v.self)?.hosts === HOSTS ? true : undefined;
      }, 30_000);
      const hostsBackMs = Date.now() - killedAt;
      const done = await until('the task to end', async () => {
        const t = (await api<TaskDetail>(cluster.restUrl, token, 'GET', `/tasks/${taskId}`)).body.data;
        return t.status !== 'running' ? t : undefined;
      }, 90_000);
      console.log(`  hosts back on the other replica ${hostsBackMs} ms after kill -9; task ended ${Date.now() - killedAt} ms after: ${JSON.stringify(done.counts)}`);
      assert.is(done.runs.length, HOSTS);
      assert.ok(done.runs.every((r) => ['succeeded', 'failed', 'lost', 'timeout'].includes(r.status)), 'every run ended');
      assert.is(done.counts.succeeded, HOSTS, `none lost: ${JSON.stringify(done.counts)}`);
      // The simulator counts every dispatch of a run it did not hold: a run sent again after it ended would count twice.
      await new Promise((r) => setTimeout(r, 1500)); // one more progress line after the last run ended
      const progress = sim.lines.at(-1)!;
      assert.is(progress.dispatches, HOSTS, 'no run was started twice');
    });
  });
}

test.run();
