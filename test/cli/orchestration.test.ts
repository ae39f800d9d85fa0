// Orchestration from opsctl, on the real path: the local stack (manager, hostd and agentd as
// processes) with web-1 and web-2, each with its own `node-name`. Rollout and queue flags, the
// accepted line, --detach and --quiet, Ctrl-C cancelling the task, tasks cancel / ls filters /
// logs (more output than the manager keeps as the tail) / rerun --failed, waves, queued nodes,
// and a follow that survives a manager restart.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskDetail, TaskStatus, TaskSummary } from '../../proto/rest/tasks.js';
import { api, startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { freePorts } from '../helpers/ports.js';
import { ConfigHome, ensureBuilt, opsctl, type RunOptions } from './run-opsctl.js';
import { nodePath, until } from './task-nodes.js';

const home = new ConfigHome();
const scratch = mkdtempSync(join(tmpdir(), 'opsctl-cli-orchestration-'));
/** Small, so that tasks logs has more to print than the manager keeps as each run's tail. */
const OUTPUT_LIMIT_BYTES = 64;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
let stack: LocalStack | undefined;
let web3Port = 0;
let web3: ChildProcess | undefined;
/** The --queue task whose run on web-3 waits for it to reconnect. */
let queuedTaskId: string | undefined;
const run = (args: string[], opts: RunOptions = {}) => opsctl(home, args, { timeoutMs: 60_000, ...opts, env: { OPSCTL_SERVER: stack!.httpUrl, OPSCTL_TOKEN: stack!.token, ...opts.env } });
const apiData = async <T>(method: string, path: string, body?: unknown): Promise<T> => (await api<T>(stack!.httpUrl, stack!.token, method, path, body)).body.data;
const getTask = (id: string) => apiData<TaskDetail>('GET', `/tasks/${id}`);
const allTasks = () => apiData<TaskSummary[]>('GET', '/tasks?limit=1000');
const latestTask = async () => getTask((await apiData<TaskSummary[]>('GET', '/tasks?limit=1'))[0].id);
const untilStatus = (id: string, status: TaskStatus) => until(`task ${id} to be ${status}`, async () => (await getTask(id)).status === status);
const untilRunning = (id: string) => until(`task ${id} to run on every node`, async () => (await getTask(id)).runs.every((r) => r.status === 'running'));
/** The accepted line taken off standard error (checked where it matters). */
const afterAccepted = (stderr: string) => stderr.replace(/^task \S+ accepted on \d+ nodes?( \(.*\))?\n/, '');
const elapsed = (text: string) => text.replace(/ in \d+(\.\d+)? s/g, ' in <t>');

test.before(async () => {
  ensureBuilt();
  const [httpPort, grpcPort, agentPort, agentPort2, agentPort3] = await freePorts(5);
  web3Port = agentPort3;
  const env = { PATH: nodePath(scratch, 'web-1'), OPS_TASKS_OUTPUT_LIMIT_BYTES: String(OUTPUT_LIMIT_BYTES) };
  stack = await startLocalStack({ dataDir: join(scratch, 'stack'), httpPort, grpcPort, agentPort, nodeName: 'web-1', logLevel: 'warn', env });
  await stack.addHost('web-2', agentPort2, { PATH: nodePath(scratch, 'web-2') });
});

test.after(async () => {
  await stack?.stop();
  home.remove();
  rmSync(scratch, { recursive: true, force: true });
});

test('bad rollout and queue flags are usage errors (exit 2) and create nothing', async () => {
  const inventory = join(scratch, 'hosts.yaml');
  const cases: [string[], string][] = [
    [['--batch', '0'], 'Error: --batch 0: a wave needs at least one node; use a count of 1 or more, or a percentage above 0%'],
    [['--batch', '0%'], 'Error: --batch 0%: a wave needs at least one node; use a count of 1 or more, or a percentage above 0%'],
    [['--batch', 'ten'], 'Error: --batch "ten": use a whole count (10) or a percentage of the nodes (10%)'],
    [['--batch', '2.5'], 'Error: --batch "2.5": use a whole count (10) or a percentage of the nodes (10%)'],
    [['--batch', '10%', '--max-fail', '150%'], 'Error: --max-fail 150%: a percentage is at most 100%'],
    [['--max-fail', '2'], 'Error: --max-fail needs --batch or --canary: without waves every node starts at once, so there is nothing left to skip'],
    [['--batch-pause', '30s'], 'Error: --batch-pause needs --batch or --canary: it is the wait between waves'],
    [['--batch', '1', '--batch-pause', 'soon'], 'Error: --batch-pause: invalid duration "soon": use a number with s, m, h or d (e.g. 90s, 15m, 1h)'],
    [['--queue', '--expires', 'tomorrow'], 'Error: --expires: invalid duration "tomorrow": use a number with s, m, h or d (e.g. 90s, 15m, 1h)'],
    [['--queue', '--expires', '31d'], 'Error: --expires 31d is out of range: use 1s to 30d'],
    [['--expires', '1h'], 'Error: --expires is how long queued nodes wait: give it with --queue'],
    [['--inventory', inventory, '--batch', '1'], 'Error: --batch, --canary, --max-fail, --batch-pause, --queue and --expires need the manager: direct mode (--inventory) runs on every host at once'],
    [['--inventory', inventory, '--detach'], 'Error: --detach needs the manager: in direct mode (--inventory) the task runs only while opsctl does'],
  ];
  const before = (await allTasks()).length;
  for (const [flags, message] of cases) {
    const r = await run(['tasks', 'run', 'web-1', ...flags, '--', 'true']);
    assert.is(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.is(r.stderr, `${message}\n`, flags.join(' '));
    assert.is(r.stdout, '');
  }
  const canary = await run(['tasks', 'run', 'web-1', '--canary', '0', '--', 'true']);
  assert.is(canary.code, 2, canary.stderr);
  assert.match(canary.stderr, /^Error: .*--canary.*greater than or equal to 1.* \(see 'opsctl tasks run --help'\)\n$/);
  assert.is((await allTasks()).length, before);
});

test('the task id comes first on stderr; --detach prints only the id (or the task as JSON) and returns; --quiet keeps only the output', async () => {
  const release = join(scratch, 'detach-release');
  const detached = await run(['tasks', 'run', 'web-1', '--detach', '--env', `RELEASE=${release}`, '--', 'while [ ! -e "$RELEASE" ]; do sleep 0.05; done; echo later']);
  assert.is(detached.code, 0, detached.stderr);
  assert.is(detached.stderr, '');
  assert.match(detached.stdout, new RegExp(`^${UUID.source}\n$`));
  const id = detached.stdout.trim();
  // opsctl returned while the task waits for the release file: the manager runs it on its own.
  assert.is((await getTask(id)).status, 'running');
  writeFileSync(release, '');
  await untilStatus(id, 'succeeded');

  const json = await run(['tasks', 'run', 'web-1', 'web-2', '--detach', '--json', '--', 'true']);
  assert.is(json.code, 0, json.stderr);
  const task = JSON.parse(json.stdout) as TaskDetail;
  assert.equal(task.runs.map((r) => r.node), ['web-1', 'web-2']);
  assert.is(task.id, (await latestTask()).id);

  const quiet = await run(['tasks', 'run', 'web-1', '--quiet', '--', 'echo hi']);
  assert.is(quiet.code, 0, quiet.stderr);
  assert.is(quiet.stdout, 'web-1: hi\n');
  assert.is(quiet.stderr, '');
});

test('Ctrl-C cancels the task on every node, waits for the final events, prints the summary and exits 130', async () => {
  let sent = false;
  const r = await run(['tasks', 'run', 'web-1', 'web-2', '--', 'echo "started on $(node-name)"; sleep 30'], {
    onStdout: (text, child) => {
      if (!sent && text.includes('web-1: started on web-1\n') && text.includes('web-2: started on web-2\n')) { sent = true; child.kill('SIGINT'); }
    },
  });
  assert.ok(sent);
  assert.is(r.code, 130, r.stderr);
  const task = await latestTask();
  assert.is(elapsed(r.stderr), `task ${task.id} accepted on 2 nodes\n` +
    `cancelling task ${task.id} on 2 nodes… (Ctrl-C again to leave without waiting)\n` +
    '2 nodes: 0 succeeded, 2 cancelled (web-1, web-2) in <t>\n' +
    `Error: interrupted: task ${task.id} was cancelled\n`);
  assert.is(task.status, 'cancelled');
  assert.equal(task.runs.map((x) => x.status), ['cancelled', 'cancelled']);
});

test('tasks cancel prints where each run ended; a finished task is refused', async () => {
  const started = await run(['tasks', 'run', 'web-1', 'web-2', '--detach', '--', 'sleep 30']);
  assert.is(started.code, 0, started.stderr);
  const id = started.stdout.trim();
  await untilRunning(id);
  const r = await run(['tasks', 'cancel', id]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'web-1\tcancelled\t\tcancelled by the operator\nweb-2\tcancelled\t\tcancelled by the operator\n');
  const json = await run(['tasks', 'cancel', id, '--json']);
  assert.is(json.code, 1);
  assert.is(json.stderr, `Error: task ${id} already finished (cancelled) (code 2003)\n`);
  assert.is((await getTask(id)).status, 'cancelled');
});

test('tasks ls filters by --status, --node, --since and --limit; bad values are usage errors', async () => {
  const since = new Date().toISOString();
  const failed = await run(['tasks', 'run', 'web-2', '--', 'exit 4']);
  assert.is(failed.code, 1, failed.stderr);
  const failedId = (await latestTask()).id;
  const ok = await run(['tasks', 'run', 'web-1', '--', 'true']);
  assert.is(ok.code, 0, ok.stderr);
  const okId = (await latestTask()).id;
  const ids = async (args: string[]) => {
    const r = await run(['tasks', 'ls', ...args, '--json']);
    assert.is(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as TaskSummary[]).map((t) => t.id);
  };
  assert.equal(await ids(['--since', since]), [okId, failedId]);
  assert.equal(await ids(['--since', since, '--status', 'failed']), [failedId]);
  assert.equal(await ids(['--since', since, '--node', 'web-1']), [okId]);
  assert.equal(await ids(['--since', '1h', '--limit', '1']), [okId]);
  const everyFailed = (await allTasks()).filter((t) => t.status === 'failed').slice(0, 20).map((t) => t.id);
  assert.equal(await ids(['--status', 'failed']), everyFailed);
  assert.equal(await ids(['--since', new Date(Date.now() + 60_000).toISOString()]), []);
  const tsv = await run(['tasks', 'ls', '--since', since, '--status', 'failed']);
  assert.match(tsv.stdout, new RegExp(`^${failedId}\tfailed\t1\t0\t1\t0\t0\t0\tadmin\t\\S+\texit 4\n$`));

  const status = await run(['tasks', 'ls', '--status', 'broken']);
  assert.is(status.code, 2);
  assert.match(status.stderr, /^Error: .*--status.*running, succeeded, failed, cancelled.* \(see 'opsctl tasks --help'\)\n$/);
  const bad = await run(['tasks', 'ls', '--since', 'yesterday']);
  assert.is(bad.code, 2);
  assert.is(bad.stderr, 'Error: --since: "yesterday" is neither a duration (90s, 15m, 1h, 7d) nor an RFC 3339 time\n');
});

test('tasks logs prints the whole output, not just the tail tasks show keeps: prefixed with several nodes, bare with --node, NDJSON with --json', async () => {
  const script = 'for i in $(seq 1 30); do echo "line $i of $(node-name)"; done; echo "warning from $(node-name)" >&2';
  const ran = await run(['tasks', 'run', 'web-1', 'web-2', '--', script]);
  assert.is(ran.code, 0, ran.stderr);
  const task = await latestTask();
  assert.ok(task.runs.every((r) => r.outputTruncated), 'the manager kept only a tail');
  const lines = (node: string) => Array.from({ length: 30 }, (_, i) => `line ${i + 1} of ${node}`);

  const all = await run(['tasks', 'logs', task.id]);
  assert.is(all.code, 0, all.stderr);
  for (const node of ['web-1', 'web-2']) {
    assert.equal(all.stdout.split('\n').filter((l) => l.startsWith(`${node}: `)), lines(node).map((l) => `${node}: ${l}`));
  }
  assert.is(all.stdout.split('\n').length, 61, 'sixty lines, each ending in a newline');
  assert.equal(all.stderr.split('\n').sort(), ['', 'web-1: warning from web-1', 'web-2: warning from web-2']);

  const one = await run(['tasks', 'logs', task.id, '--node', 'web-2']);
  assert.is(one.code, 0, one.stderr);
  assert.is(one.stdout, lines('web-2').join('\n') + '\n');
  assert.is(one.stderr, 'warning from web-2\n');

  const json = await run(['tasks', 'logs', task.id, '--json']);
  assert.is(json.code, 0, json.stderr);
  const chunks = json.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { seq: number; node: string; stream: string; data: string });
  assert.ok(chunks.every((c, i) => i === 0 || c.seq > chunks[i - 1].seq), 'in order');
  assert.is(chunks.filter((c) => c.node === 'web-1' && c.stream === 'stdout').map((c) => c.data).join(''), lines('web-1').join('\n') + '\n');

  const missing = await run(['tasks', 'logs', task.id, '--node', 'db-9']);
  assert.is(missing.code, 1);
  assert.is(missing.stderr, `Error: task ${task.id} did not run on node "db-9" (its nodes: web-1, web-2)\n`);
});

test('tasks logs --follow prints what is stored, then the rest live, until the task is done', async () => {
  const release = join(scratch, 'logs-release');
  const started = await run(['tasks', 'run', 'web-1', '--detach', '--env', `RELEASE=${release}`, '--',
    'for i in $(seq 1 10); do echo "early $i"; done; while [ ! -e "$RELEASE" ]; do sleep 0.05; done; echo late']);
  const id = started.stdout.trim();
  await until('the early lines to be stored', async () => (await getTask(id)).runs[0].output.includes('early 10\n'));
  const r = await run(['tasks', 'logs', id, '--follow'], {
    onStdout: (text) => { if (text.includes('early 10\n') && !existsSync(release)) writeFileSync(release, ''); },
  });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, Array.from({ length: 10 }, (_, i) => `early ${i + 1}\n`).join('') + 'late\n');
  assert.is(r.stderr, '');
});

test('tasks rerun --failed runs again only where the run failed, followed like tasks run', async () => {
  const mark = join(scratch, 'rerun-mark');
  const script = `if [ "$(node-name)" = web-2 ] && [ ! -e ${mark} ]; then touch ${mark}; echo "failing on $(node-name)"; exit 1; fi; echo "ok on $(node-name)"`;
  const first = await run(['tasks', 'run', 'web-1', 'web-2', '--', script]);
  assert.is(first.code, 1, first.stderr);
  const original = await latestTask();

  const again = await run(['tasks', 'rerun', original.id, '--failed']);
  assert.is(again.code, 0, again.stderr);
  const rerun = await latestTask();
  assert.not.equal(rerun.id, original.id);
  assert.is(again.stdout, 'web-2: ok on web-2\n');
  assert.is(elapsed(again.stderr), `task ${rerun.id} accepted on 1 node\n1 node: 1 succeeded in <t>\n`);
  assert.equal(rerun.runs.map((r) => [r.node, r.status]), [['web-2', 'succeeded']]);
  assert.is(rerun.script, script);

  const everywhere = await run(['tasks', 'rerun', original.id, '--detach']);
  assert.is(everywhere.code, 0, everywhere.stderr);
  assert.equal((await getTask(everywhere.stdout.trim())).runs.map((r) => r.node), ['web-1', 'web-2']);

  const missing = await run(['tasks', 'rerun', 'nope']);
  assert.is(missing.code, 1);
  assert.is(missing.stderr, 'Error: task "nope" not found (code 1004)\n');
});

test('waves: the failure budget spent, the nodes not started are skipped; the summary says why, tasks show the waves', async () => {
  const r = await run(['tasks', 'run', 'web-1', 'web-2', '--batch', '1', '--', 'echo "on $(node-name)"; exit 1']);
  assert.is(r.code, 1, r.stderr);
  const task = await latestTask();
  const [ran, skipped] = [...task.runs].sort((a, b) => a.wave - b.wave);
  assert.is(skipped.status, 'skipped');
  assert.is(r.stdout, `${ran.node}: on ${ran.node}\n`);
  assert.ok(task.stopReason, 'the manager says why it stopped');
  assert.is(elapsed(r.stderr), `task ${task.id} accepted on 2 nodes (waves of 1, stop after 1 failure)\n` +
    `2 nodes: 0 succeeded, 1 failed (exit 1 on ${ran.node}), 1 skipped (${task.stopReason}) in <t>\n`);
  const show = await run(['tasks', 'show', task.id]);
  assert.match(show.stdout, /^rollout\tbatch 1, max-fail 0$/m);
  assert.match(show.stdout, new RegExp(`^stop_reason\t${task.stopReason!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  assert.match(show.stdout, new RegExp(`^run\t${skipped.node}\tskipped\t1\t`, 'm'));
});

test('--queue: opsctl returns when the online nodes are done and names the queued ones; without it an offline node fails', async () => {
  web3 = await stack!.addHost('web-3', web3Port, { PATH: nodePath(scratch, 'web-3') });
  const stopped = new Promise((resolve) => web3!.once('exit', resolve));
  web3.kill('SIGTERM');
  await stopped;
  await until('web-3 to be offline', async () => (await apiData<{ name: string; status: string }[]>('GET', '/nodes')).some((n) => n.name === 'web-3' && n.status === 'offline'));

  const offline = await run(['tasks', 'run', 'web-1', 'web-3', '--', 'echo "hi from $(node-name)"']);
  assert.is(offline.code, 1, offline.stderr);
  assert.is(offline.stdout, 'web-1: hi from web-1\n');
  assert.match(elapsed(afterAccepted(offline.stderr)), /^2 nodes: 1 succeeded, 1 offline \(web-3\) in <t>\n$/);

  const queued = await run(['tasks', 'run', 'web-1', 'web-3', '--queue', '--expires', '1h', '--', 'echo "hi from $(node-name)"']);
  assert.is(queued.code, 0, queued.stderr);
  assert.is(queued.stdout, 'web-1: hi from web-1\n');
  const task = await latestTask();
  assert.ok(task.queueExpiresAt);
  assert.is(elapsed(queued.stderr), `task ${task.id} accepted on 2 nodes (offline nodes queued until ${task.queueExpiresAt})\n` +
    '2 nodes: 1 succeeded, 1 queued in <t>\n' +
    `1 node queued until ${task.queueExpiresAt}: web-3 — 'opsctl tasks show ${task.id}' follows them\n`);
  assert.equal(task.runs.map((r) => [r.node, r.status]), [['web-1', 'succeeded'], ['web-3', 'queued']]);

  queuedTaskId = task.id;
});

test('a queued run starts when its node reconnects, and the task ends', async () => {
  assert.ok(queuedTaskId, 'the --queue test left a task queued on web-3');
  web3 = await stack!.addHost('web-3', web3Port, { PATH: nodePath(scratch, 'web-3') });
  await untilStatus(queuedTaskId!, 'succeeded');
  const logs = await run(['tasks', 'logs', queuedTaskId!, '--node', 'web-3']);
  assert.is(logs.stdout, 'hi from web-3\n');
});

test('a follow survives a manager restart: opsctl resumes after the last event it saw, printing nothing twice', async () => {
  const release = join(scratch, 'restart-release');
  let restarting: Promise<void> | undefined;
  const r = await run(['tasks', 'run', 'web-1', '--env', `RELEASE=${release}`, '--', 'echo first; while [ ! -e "$RELEASE" ]; do sleep 0.05; done; echo second'], {
    env: { OPSCTL_DEBUG: '1' },
    onStdout: (text) => {
      if (restarting || !text.includes('web-1: first\n')) return;
      restarting = stack!.restartManager().then(() => writeFileSync(release, ''));
    },
  });
  await restarting;
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'web-1: first\nweb-1: second\n');
  const task = await latestTask();
  assert.match(r.stderr, new RegExp(`^task ${task.id} accepted on 1 node\n`));
  assert.match(r.stderr, new RegExp(`resuming the event stream of task ${task.id} after event \\d+ \\(`));
  assert.match(r.stderr, /\n1 node: 1 succeeded in \d+\.\d s\n$/);
  assert.is(task.status, 'succeeded');
});

test.run();
