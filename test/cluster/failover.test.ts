// Replicas behind HAProxy with simulated hosts, and one replica killed (-9) in the middle of a
// fan-out: its hosts reconnect through the balancer to the other replica, which adopts the task;
// every run ends (none lost), none is started twice, and the result is whole. `opsctl tasks logs
// --follow` runs through the balancer meanwhile, one follower on each replica: each keeps following
// (the one on the killed replica resumes on the other) or exits with a clear message, and `opsctl
// tasks show` through the balancer has the whole result. Real processes:
// two `opsctl server`, HAProxy, MariaDB, Redis, the fleet simulator. Needs OPS_TEST_MYSQL_URL,
// OPS_TEST_REDIS_URL and /usr/sbin/haproxy (.ci/run installs it).
import { execFileSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ClusterView } from '../../proto/rest/cluster.js';
import type { TaskDetail } from '../../proto/rest/tasks.js';
import { api } from '../../scripts/local-stack.js';
import { ConfigHome, opsctl, type Result } from '../cli/run-opsctl.js';
import { clusterTestsCan, withSimCluster } from '../helpers/sim-cluster.js';
import { until } from '../server/harness.js';

const HOSTS = 500;

/** Connections established to a local port: how many of the balancer's connections a replica holds. */
function establishedTo(port: number): number {
  return execFileSync('ss', ['-Htn', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
}

if (!clusterTestsCan()) {
  test('fail-over tests need OPS_TEST_MYSQL_URL, OPS_TEST_REDIS_URL and haproxy (skipped)', () => undefined);
} else {
  test(`kill -9 of the replica running a fan-out to ${HOSTS} hosts: hosts move, the task is adopted, every run ends once`, async () => {
    const home = new ConfigHome();
    // Each run takes 4-7 s on its host, so the kill lands while runs are in flight even when the
    // followers are slow to start on a loaded machine.
    const simArgs = ['--procs', '2', '--key-pool', '32', '--report-ms', '500', '--latency', '4000-7000'];
    await withSimCluster({ name: 'failover', hosts: HOSTS, leaseMs: 2000, simArgs, readyTimeoutMs: 120_000 }, async ({ cluster, token, sim }) => {
      const [a, b] = cluster.replicas;
      const held = await until('both replicas to hold hosts', async () => {
        const v = (await api<ClusterView>(a.restUrl, token, 'GET', '/cluster')).body.data;
        const counts = v.replicas.map((r) => r.hosts);
        return counts.length === 2 && counts[0] + counts[1] === HOSTS && counts.every((n) => n > 0) ? counts : undefined;
      }, 30_000);
      console.log(`  hosts per replica through the balancer: ${held.join(' / ')}`);

      const login = await opsctl(home, ['login', '--server', cluster.restUrl, '--username', cluster.admin.username, '--password', cluster.admin.password]);
      assert.is(login.code, 0, login.stderr);

      // Accepted by replica b, which then dies with the task in flight.
      const created = await api<TaskDetail>(b.restUrl, token, 'POST', '/tasks', { selector: { all: true }, script: 'true', timeoutSeconds: 120 });
      assert.is(created.status, 201, created.body.message);
      const taskId = created.body.data.id;

      // Followers through the balancer, started one at a time until one streams from each replica
      // (round robin: usually two). OPSCTL_DEBUG makes a follower say when it resumes the stream.
      const followers: Promise<Result>[] = [];
      const onB = () => establishedTo(b.restPort);
      const onA = () => establishedTo(a.restPort);
      const [baseA, baseB] = [onA(), onB()];
      while (followers.length < 6 && (onA() <= baseA || onB() <= baseB)) {
        followers.push(opsctl(home, ['tasks', 'logs', taskId, '--follow'], { env: { OPSCTL_DEBUG: '1' }, timeoutMs: 150_000 }));
        await until('the follower to stream', () => (onA() + onB() > baseA + baseB + followers.length - 1 ? true : undefined), 30_000);
      }
      assert.ok(onB() > baseB && onA() > baseA, `a follower streams from each replica (${followers.length} started)`);
      const killedAt = Date.now();
      b.proc.kill('SIGKILL');

      await until('every host back, on the surviving replica', async () => {
        const v = (await api<ClusterView>(a.restUrl, token, 'GET', '/cluster')).body.data;
        return v.replicas.find((r) => r.id === v.self)?.hosts === HOSTS ? true : undefined;
      }, 30_000);
      const hostsBackMs = Date.now() - killedAt;
      // The task, and each of its runs, in a final status. (Once, under load, the task read as ended
      // a moment before its last runs did: the two are written apart. So both are waited for.)
      const FINAL = ['succeeded', 'failed', 'lost', 'timeout'];
      let endedAt = 0;
      const done = await until('the task and every run to end', async () => {
        const t = (await api<TaskDetail>(cluster.restUrl, token, 'GET', `/tasks/${taskId}`)).body.data;
        if (t.status === 'running') return undefined;
        endedAt ||= Date.now();
        return t.runs.every((r) => FINAL.includes(r.status)) ? t : undefined;
      }, 90_000);
      if (Date.now() - endedAt > 1000) console.log(`  the last runs ended ${Date.now() - endedAt} ms after the task did`);
      console.log(`  hosts back on the other replica ${hostsBackMs} ms after kill -9; task ended ${Date.now() - killedAt} ms after: ${JSON.stringify(done.counts)}`);
      assert.is(done.runs.length, HOSTS);
      assert.is(done.counts.succeeded, HOSTS, `none lost: ${JSON.stringify(done.counts)}`);
      // The simulator counts every dispatch of a run it did not hold: a run sent again after it ended would count twice.
      await new Promise((r) => setTimeout(r, 1500)); // one more progress line after the last run ended
      const progress = sim.lines.at(-1)!;
      assert.is(progress.dispatches, HOSTS, 'no run was started twice');

      // Each follower kept following to the end, or said clearly that it lost the stream.
      const ends = await Promise.all(followers);
      for (const [i, f] of ends.entries()) {
        console.log(`  follower ${i + 1}: exit ${f.code}${/resuming the event stream/.test(f.stderr) ? ', resumed on the other replica' : ''}`);
        if (f.code !== 0) assert.match(f.stderr, new RegExp(`lost the event stream of task ${taskId}.*opsctl tasks show ${taskId}`), `follower ${i + 1}: ${f.stderr}`);
      }
      // (The one that streamed from the killed replica may have been reading the stored output then:
      // its read is asked again on a new connection, and it follows from the other replica.)
      const shown = await opsctl(home, ['tasks', 'show', taskId, '--json']);
      assert.is(shown.code, 0, shown.stderr);
      const whole = JSON.parse(shown.stdout) as TaskDetail;
      assert.is(whole.runs.length, HOSTS);
      assert.ok(whole.runs.every((r) => r.status === 'succeeded'), 'tasks show through the balancer has the whole result');
    }).finally(() => home.remove());
  });
}

test.run();
