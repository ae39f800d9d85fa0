// A schedule due every minute fires exactly once per minute across 5 minutes while the leader is
// killed (-9) once: two `opsctl server` replicas behind HAProxy on MariaDB and Redis (2 s lease),
// 4 simulated hosts so every fire creates a real task. The schedule is created through the
// follower (through the balancer it lands on either replica; the follower is the case where the
// leader has to learn of it). The leader is killed 10 s before the third due minute, so the other
// replica must take over and arm the schedule in time; catchUp stays off (the default), so a
// takeover that came too late shows as a missed minute instead of being covered by a late fire.
// The killed replica is started again and must not fire anything twice. Mostly waits on the
// clock (~5.5 min): scripts/test.mjs runs it alongside the other suites.
// Needs OPS_TEST_MYSQL_URL, OPS_TEST_REDIS_URL and /usr/sbin/haproxy (.ci/run installs it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ClusterView } from '../../proto/rest/cluster.js';
import type { ScheduleDetail, ScheduleFireView } from '../../proto/rest/schedules.js';
import type { TaskSummary } from '../../proto/rest/tasks.js';
import { api } from '../../scripts/local-stack.js';
import { pollUntil } from '../helpers/poll.js';
import { clusterTestsCan, withSimCluster } from '../helpers/sim-cluster.js';

const HOSTS = 4;
const MINUTES = 5;
const MINUTE = 60_000;
/** The leader dies this long before the middle due minute. */
const KILL_BEFORE_MS = 10_000;

const sleepUntil = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
const clock = (ms: number) => new Date(ms).toISOString().slice(11, 23);

if (!clusterTestsCan()) {
  test('schedule fail-over test needs OPS_TEST_MYSQL_URL, OPS_TEST_REDIS_URL and haproxy (skipped)', () => undefined);
} else {
  test(`a schedule due every minute fires once per minute for ${MINUTES} minutes while the leader is killed -9 once`, async () => {
    const simArgs = ['--key-pool', '4', '--latency', '200-500'];
    await withSimCluster({ name: 'sched-failover', hosts: HOSTS, leaseMs: 2000, simArgs }, async ({ cluster: stack, token }) => {
      const view = async (url: string) => (await api<ClusterView>(url, token, 'GET', '/cluster')).body.data;
      const leaderIndex = () => pollUntil('one replica to lead', async () => {
        const views = await Promise.all(stack.replicas.map((r) => view(r.restUrl).catch(() => undefined)));
        const i = views.findIndex((v) => v?.replicas.find((x) => x.id === v.self)?.leader);
        return i >= 0 ? i : undefined;
      }, 15_000, 50);

      const template = await api(stack.restUrl, token, 'POST', '/templates', { name: 'tick', script: 'echo tick' });
      assert.is(template.status, 201, JSON.stringify(template.body));
      // Not in the last 5 s of a minute: the first due minute is then the next one, whoever arms it.
      if (Date.now() % MINUTE > MINUTE - 5000) await sleepUntil(Math.ceil(Date.now() / MINUTE) * MINUTE + 100);
      const follower = stack.replicas[1 - (await leaderIndex())];
      const created = await api<ScheduleDetail>(follower.restUrl, token, 'POST', '/schedules', {
        name: 'every-minute', cron: '* * * * *', template: 'tick', selector: { all: true }, timeoutSeconds: 30,
      });
      assert.is(created.status, 201, JSON.stringify(created.body));
      assert.is(created.body.data.catchUp, false);
      const first = Math.ceil(Date.parse(created.body.data.createdAt) / MINUTE) * MINUTE;
      const due = Array.from({ length: MINUTES }, (_, i) => first + i * MINUTE);
      console.log(`  schedule created ${clock(Date.parse(created.body.data.createdAt))} on the follower; due minutes ${due.map(clock).join(', ')}`);

      // Kill -9 the leader 10 s before the middle due minute; the other must lead (and arm) before it.
      const middle = due[Math.floor(MINUTES / 2)];
      await sleepUntil(middle - KILL_BEFORE_MS);
      const killed = await leaderIndex();
      const survivor = stack.replicas[1 - killed];
      const killedAt = Date.now();
      stack.replicas[killed].proc.kill('SIGKILL');
      await pollUntil('the survivor to lead', async () => {
        const v = await view(survivor.restUrl);
        return v.replicas.find((x) => x.id === v.self)?.leader ? true : undefined;
      }, 10_000, 50);
      const takeoverMs = Date.now() - killedAt;
      console.log(`  leader (replica ${killed}) killed -9 at ${clock(killedAt)}, ${middle - killedAt} ms before ${clock(middle)}; replica ${1 - killed} leads ${takeoverMs} ms later (lease 2000 ms)`);
      assert.ok(killedAt + takeoverMs < middle, 'the new leader took over before the due minute');
      // Back as a follower: it must not fire what the leader fires.
      await stack.restartReplica(killed);

      // Every due minute, and the task of the last one ended.
      const last = due[MINUTES - 1];
      await sleepUntil(last + 1000);
      // Then until every fire of the window has an ended task (up to a minute); what is there then is judged.
      const firesNow = async () => (await api<ScheduleDetail>(stack.restUrl, token, 'GET', '/schedules/every-minute')).body.data.recentFires
        .filter((f) => Date.parse(f.dueAt) <= last).reverse();
      const ended = (fs: ScheduleFireView[]) => fs.length >= MINUTES && fs.every((f) => f.taskId === null || f.status !== 'running');
      const fires = await pollUntil('every fire in the window to have an ended task', async () => { const fs = await firesNow(); return ended(fs) ? fs : undefined; }, 60_000, 500)
        .catch(() => firesNow());
      for (const f of fires) console.log(`  due ${clock(Date.parse(f.dueAt))} → fired ${clock(Date.parse(f.firedAt))} (+${Date.parse(f.firedAt) - Date.parse(f.dueAt)} ms), task ${f.taskId} ${f.status}${f.error ? ` error: ${f.error}` : ''}`);
      assert.equal(fires.map((f) => Date.parse(f.dueAt)), due, 'one fire per due minute, each exactly on it, none doubled or missed');
      for (const f of fires) {
        assert.is(f.error, null, `due ${f.dueAt}: ${f.error}`);
        assert.is(f.status, 'succeeded', `due ${f.dueAt}: task ${f.taskId} ${f.status}`);
      }
      // The tasks themselves: one per fire, whatever the fire rows say.
      const tasks = (await api<TaskSummary[]>(stack.restUrl, token, 'GET', '/tasks?limit=100')).body.data
        .filter((t) => t.schedule === 'every-minute' && Date.parse(t.createdAt) < last + MINUTE);
      assert.equal(tasks.map((t) => t.id).sort(), fires.map((f) => f.taskId).sort(), 'one task per fire');
      for (const t of tasks) assert.equal(t.counts.succeeded, HOSTS, `task ${t.id} ran on every host: ${JSON.stringify(t.counts)}`);
    });
  });
}

test.run();
