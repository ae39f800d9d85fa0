// tasks run (streaming from SSE, exit codes, NDJSON), tasks show and tasks list, on the real path:
// the local stack (manager, hostd and agentd as processes) with node web-1, plus a second hostd
// enrolled as web-2. Each node has its own `node-name` command on its PATH (the PATH agentd gives
// scripts), so one script can behave differently per node.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskDetail, TaskStreamEvent, TaskSummary } from '../../proto/rest/tasks.js';
import { api, binPath, startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { databaseTarget, openOrm, type Orm } from '../../server/db/orm.js';
import { Task } from '../../server/modules/tasks/task.entity.js';
import { freePorts } from '../helpers/ports.js';
import { assertGolden } from './golden.js';
import { nodePath, until } from './task-nodes.js';
import { ConfigHome, ensureBuilt, opsctl, type RunOptions } from './run-opsctl.js';

const home = new ConfigHome();
const scratch = mkdtempSync(join(tmpdir(), 'opsctl-cli-tasks-'));
const OUTPUT_LIMIT_BYTES = 256;
let stack: LocalStack | undefined;
let web2: ChildProcess | undefined;
let db: Orm | undefined;
const run = (args: string[], opts: RunOptions = {}) => opsctl(home, args, { timeoutMs: 30_000, ...opts, env: { OPSCTL_SERVER: stack!.httpUrl, OPSCTL_TOKEN: stack!.token, ...opts.env } });

const pathFor = (name: string) => nodePath(scratch, name);

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  child.kill('SIGTERM');
  await exited;
  clearTimeout(timer);
}

const apiData = async <T>(method: string, path: string, body?: unknown): Promise<T> => (await api<T>(stack!.httpUrl, stack!.token, method, path, body)).body.data;
const taskCount = async () => (await apiData<TaskSummary[]>('GET', '/tasks?limit=100')).length;
const latestTask = async () => apiData<TaskDetail>('GET', `/tasks/${(await apiData<TaskSummary[]>('GET', '/tasks?limit=1'))[0].id}`);
const linesOf = (text: string, node: string) => text.split('\n').filter((l) => l.startsWith(`${node}: `));
/** Standard error after the line saying the manager accepted the task. */
const afterAccepted = (stderr: string) => stderr.replace(/^task \S+ accepted on \d+ nodes?( \(.*\))?\n/, '');

test.before(async () => {
  ensureBuilt();
  const [httpPort, grpcPort, agentPort, agentPort2] = await freePorts(4);
  const env = { PATH: pathFor('web-1'), OPS_TASKS_OUTPUT_LIMIT_BYTES: String(OUTPUT_LIMIT_BYTES) };
  stack = await startLocalStack({ dataDir: join(scratch, 'stack'), httpPort, grpcPort, agentPort, nodeName: 'web-1', logLevel: 'warn', env });

  const created = await apiData<{ token: string; caHash: string }>('POST', '/enrollment-tokens', { uses: 1, ttlSeconds: 600 });
  const dataDir = join(scratch, 'web-2', 'hostd');
  mkdirSync(dataDir, { recursive: true });
  web2 = spawn(process.execPath, [binPath('hostd'), '--manager', stack.grpcAddress, '--data-dir', dataDir, '--agent-listen', `127.0.0.1:${agentPort2}`,
    '--name', 'web-2', '--ca-hash', created.caHash, '--token', created.token], {
    env: { ...process.env, OPS_LOG_LEVEL: 'warn', OPS_AGENT_STOP_ON_EXIT: 'true', PATH: pathFor('web-2') },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await until('web-2 to come online', async () => {
    const nodes = await apiData<{ name: string; status: string; agentStatus: string }[]>('GET', '/nodes');
    return nodes.some((n) => n.name === 'web-2' && n.status === 'online' && n.agentStatus === 'healthy');
  });

  await apiData('PATCH', '/nodes/web-1/labels', { set: { env: 'prod', role: 'web' } });
  await apiData('PATCH', '/nodes/web-2/labels', { set: { env: 'staging', role: 'web' } });
  await apiData('POST', '/groups', { name: 'web' });
  await apiData('PATCH', '/groups/web', { add: ['web-1', 'web-2'] });
  await apiData('POST', '/groups', { name: 'db' });
  db = await openOrm(databaseTarget('', join(scratch, 'stack', 'manager')));
});

test.after(async () => {
  await db?.close(true);
  await stopProcess(web2);
  await stack?.stop();
  home.remove();
  rmSync(scratch, { recursive: true, force: true });
});

test('tasks run streams prefixed lines as they arrive and exits 0 when every node succeeded', async () => {
  const release = join(scratch, 'release');
  // Each script waits until opsctl has shown both first lines: a CLI that buffered would hang here.
  const script = `echo "first from $(node-name)"; while [ ! -e "$RELEASE" ]; do sleep 0.05; done; echo 'warning: low disk' >&2; printf 'second from %s\\nno newline at the end' "$(node-name)"`;
  const r = await run(['tasks', 'run', 'web-1', 'web-2', '--env', `RELEASE=${release}`, '--', script], {
    onStdout: (text) => { if (text.includes('web-1: first from web-1\n') && text.includes('web-2: first from web-2\n') && !existsSync(release)) writeFileSync(release, ''); },
  });
  assert.is(r.code, 0, r.stderr);
  for (const node of ['web-1', 'web-2']) assert.equal(linesOf(r.stdout, node), [`${node}: first from ${node}`, `${node}: second from ${node}`, `${node}: no newline at the end`]);
  assert.is(r.stdout.split('\n').length, 7, 'six lines, each ending in a newline');
  assert.ok(r.stdout.endsWith('\n'));
  const task = await latestTask();
  const err = r.stderr.split('\n');
  assert.is(err[0], `task ${task.id} accepted on 2 nodes`, 'the task id comes first, before any output');
  assert.equal(err.slice(1, 3).sort(), ['web-1: warning: low disk', 'web-2: warning: low disk']);
  assert.match(err.slice(3).join('\n'), /^2 nodes: 2 succeeded in \d+\.\d s\n$/);
  assert.is(task.script, script);
  assert.equal(task.runs.map((x) => [x.node, x.status, x.exitCode]), [['web-1', 'succeeded', 0], ['web-2', 'succeeded', 0]]);
});

test('tasks run exits 1 when a node failed, with the summary naming it', async () => {
  const r = await run(['tasks', 'run', '--all', '--', 'echo "ok from $(node-name)"; [ "$(node-name)" != web-2 ] || exit 3']);
  assert.is(r.code, 1, r.stderr);
  assert.equal(r.stdout.split('\n').sort(), ['', 'web-1: ok from web-1', 'web-2: ok from web-2']);
  assert.match(afterAccepted(r.stderr), /^2 nodes: 1 succeeded, 1 failed \(exit 3 on web-2\) in \d+\.\d s\n$/);
});

test('tasks run --json prints each event as one NDJSON line, in order', async () => {
  const r = await run(['tasks', 'run', 'web-1', '--json', '--', 'echo a; echo b; exit 3']);
  assert.is(r.code, 1, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  const events = lines.map((l) => JSON.parse(l) as TaskStreamEvent);
  assert.equal(lines, events.map((e) => JSON.stringify(e)), 'one compact JSON object per line');
  const task = await latestTask();
  const runId = task.runs[0].id;
  const types = events.map((e) => e.type);
  assert.is(types.at(-1), 'done');
  assert.is(types.at(-2), 'exit');
  assert.ok(types.indexOf('started') < types.indexOf('output'), types.join(','));
  assert.ok(types.slice(0, -1).every((t) => ['run', 'started', 'output', 'exit'].includes(t)), types.join(','));
  for (const e of events.slice(0, -1)) {
    assert.is((e as { runId: string }).runId, runId);
    assert.is((e as { node: string }).node, 'web-1');
  }
  const output = events.flatMap((e) => (e.type === 'output' ? [e] : []));
  assert.is(output.map((e) => e.data).join(''), 'a\nb\n');
  assert.ok(output.every((e) => e.stream === 'stdout'));
  // Each event carries its seq (the SSE id), counting up: what a client resumes after.
  assert.ok(events.every((e, i) => typeof e.seq === 'number' && (i === 0 || e.seq > events[i - 1].seq!)), events.map((e) => e.seq).join(','));
  const exit = events.at(-2) as Extract<TaskStreamEvent, { type: 'exit' }>;
  assert.equal({ ...exit, durationMs: 0 }, { type: 'exit', runId, node: 'web-1', status: 'failed', exitCode: 3, durationMs: 0, error: null, errorCode: null, result: null, seq: exit.seq });
  const done = events.at(-1)!;
  assert.equal({ ...done, stopReason: undefined }, { type: 'done', taskId: task.id, status: 'failed', counts: { total: 1, succeeded: 0, failed: 1, pending: 0, skipped: 0, queued: 0 }, seq: done.seq, stopReason: undefined });
  assert.match(r.stderr, /^1 node: 0 succeeded, 1 failed \(exit 3 on web-1\) in \d+\.\d s\n$/, 'no accepted line with --json');
});

test('a selector matching nothing: the server message, exit 1, no task created', async () => {
  const before = await taskCount();
  const r = await run(['tasks', 'run', '-l', 'env=nowhere', '--', 'true']);
  assert.is(r.code, 1);
  assert.is(r.stderr, 'Error: no node matches the selector (-l env=nowhere) (code 2002)\n');
  assert.is(r.stdout, '');
  assert.is(await taskCount(), before);
});

test('a node that runs past --timeout is a failure, named in the summary', async () => {
  const r = await run(['tasks', 'run', 'web-1', '--timeout', '1s', '--', 'echo started; sleep 30']);
  assert.is(r.code, 1, r.stderr);
  assert.is(r.stdout, 'web-1: started\n');
  assert.match(afterAccepted(r.stderr), /^1 node: 0 succeeded, 1 timed out \(web-1\) in \d+\.\d s\n$/);
  const task = await latestTask();
  assert.is(task.timeoutSeconds, 1);
  assert.is(task.runs[0].status, 'timeout');
});

test('--script, --interpreter, --env, -l and -g reach the manager as one request', async () => {
  const file = join(scratch, 'deploy.sh');
  const script = '#!/bin/bash\necho "$TARGET $DRY on $(node-name)"\n[ -n "$BASH_VERSION" ] && echo "run by bash"\n';
  writeFileSync(file, script);
  // web-* and -g web match both nodes; only web-1 has env=prod.
  const r = await run(['tasks', 'run', 'web-*', '-l', 'env=prod', '-l', 'role in (web,api)', '-g', 'web', '--script', file, '--interpreter', 'bash', '--env', 'TARGET=s3://b/x=y', '--env', 'DRY=1']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'web-1: s3://b/x=y 1 on web-1\nweb-1: run by bash\n');
  assert.match(afterAccepted(r.stderr), /^1 node: 1 succeeded in \d+\.\d s\n$/);
  const task = await latestTask();
  assert.is(task.script, script);
  assert.is(task.interpreter, 'bash');
  assert.equal(task.runs.map((x) => x.node), ['web-1']);
  const none = await run(['tasks', 'run', 'web-*', '-l', 'env=prod', '-g', 'db', '--', 'true']);
  assert.is(none.code, 1);
  assert.is(none.stderr, 'Error: no node matches the selector (web-* -l env=prod -g db) (code 2002)\n');
});

test('on a terminal the node prefix is coloured; NO_COLOR turns it off', async () => {
  const coloured = await run(['tasks', 'run', 'web-1', '--', 'echo hi'], { tty: true, env: { NO_COLOR: '' } });
  assert.is(coloured.code, 0, coloured.stdout);
  assert.match(afterAccepted(coloured.stdout), /^\x1b\[\d+mweb-1:\x1b\[0m hi\n/);
  const plain = await run(['tasks', 'run', 'web-1', '--', 'echo hi'], { tty: true });
  assert.is(plain.code, 0, plain.stdout);
  assert.match(afterAccepted(plain.stdout), /^web-1: hi\n/);
});

/** Task and run ids, times and durations out, so the golden files hold what is deterministic. */
function normalise(text: string): string {
  return text
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, '<time>')
    .replace(/^(run\t[^\t]*\t[^\t]*\t[^\t]*\t)\d+\t/gm, '$1<ms>\t');
}

test('tasks show and tasks list: tab-separated piped, per-node output on a terminal, JSON', async () => {
  // web-1 prints more than the manager keeps (OUTPUT_LIMIT_BYTES), so its stored output is a tail.
  const file = join(scratch, 'show.sh');
  writeFileSync(file, 'if [ "$(node-name)" = web-1 ]; then printf "x%.0s" $(seq 1 300); echo; fi\necho "Linux $(node-name)"\n[ "$(node-name)" = web-1 ] || exit 1\n');
  const ran = await run(['tasks', 'run', '--all', '--script', file]);
  assert.is(ran.code, 1, ran.stderr);
  const { id } = await latestTask();

  const show = await run(['tasks', 'show', id]);
  assert.is(show.code, 0, show.stderr);
  assert.is(show.stdout.split('\n')[0], `id\t${id}`);
  assertGolden('tasks-show.tsv', normalise(show.stdout));
  const tty = await run(['tasks', 'show', id], { tty: true });
  assert.is(tty.code, 0, tty.stdout);
  assert.match(tty.stdout, /^NODE\s+STATUS\s+EXIT\s+DURATION\s+STARTED\s+ERROR\s+RESULT\nweb-1\s+succeeded\s+0\s+\d+\.\d s\s+\d+s ago\s+-\s+-\nweb-2\s+failed\s+1\s+\d+\.\d s\s+\d+s ago\s+-\s+-\n/m);
  const tail = `${'x'.repeat(OUTPUT_LIMIT_BYTES - 'Linux web-1\n'.length - 1)}\nLinux web-1\n`;
  assert.match(tty.stdout, `\nweb-1 output (truncated: the last part is kept):\n    ${tail.trimEnd().replace('\n', '\n    ')}\n\nweb-2 output:\n    Linux web-2\n`);
  assert.ok(tty.stdout.endsWith('    Linux web-2\n'), tty.stdout);
  const json = JSON.parse((await run(['tasks', 'show', id, '--json'])).stdout) as TaskDetail;
  assert.equal(json, await apiData<TaskDetail>('GET', `/tasks/${id}`));
  assert.equal(json.runs.map((x) => [x.node, x.status, x.exitCode, x.output, x.outputTruncated]), [['web-1', 'succeeded', 0, tail, true], ['web-2', 'failed', 1, 'Linux web-2\n', false]]);

  const list = await run(['tasks']);
  assert.is(list.code, 0, list.stderr);
  assertGolden('tasks-ls.tsv', normalise(list.stdout));
  assert.is(list.stdout.split('\n')[0].split('\t')[0], id, 'newest first');

  // opsctl asks for the newest 20 (the manager's own default is 50).
  for (let i = list.stdout.split('\n').length - 1; i <= 20; i++) await apiData('POST', '/tasks', { selector: { names: ['web-1'] }, script: 'true' });
  assert.ok((await taskCount()) > 20);
  assert.is((await run(['tasks'])).stdout.trimEnd().split('\n').length, 20);

  const missing = await run(['tasks', 'show', 'nope']);
  assert.is(missing.code, 1);
  assert.is(missing.stderr, 'Error: task "nope" not found (code 1004)\n');
});

test('--secret-env K=V and K (from opsctl\'s environment) reach the script; every view shows ***', async () => {
  // The script names no secret: it prints their digests, so the values appear nowhere but in the environment.
  const script = 'for v in "$API_KEY" "$DB_PASSWORD"; do printf %s "$v" | sha256sum | cut -c1-16; done; echo "plain $PLAIN"';
  const r = await run(['tasks', 'run', 'web-1', '--env', 'PLAIN=p', '--secret-env', 'API_KEY=k-123', '--secret-env', 'DB_PASSWORD', '--', script],
    { env: { DB_PASSWORD: 'from env' } });
  assert.is(r.code, 0, r.stderr);
  const digest = (v: string) => createHash('sha256').update(v).digest('hex').slice(0, 16);
  assert.is(r.stdout, `web-1: ${digest('k-123')}\nweb-1: ${digest('from env')}\nweb-1: plain p\n`);
  const task = await latestTask();
  assert.equal(task.env, { PLAIN: 'p', API_KEY: '***', DB_PASSWORD: '***' });
  const shown = await run(['tasks', 'show', task.id, '--json']);
  assert.not.ok(shown.stdout.includes('k-123') || shown.stdout.includes('from env'), 'no secret in tasks show');
  const audit = await run(['audit', 'ls', '--action', 'tasks.create', '--target', task.id, '--json']);
  assert.is(audit.code, 0, audit.stderr);
  const [row] = JSON.parse(audit.stdout) as { params: { env?: unknown; secretEnv?: unknown } }[];
  assert.equal([row.params.env, row.params.secretEnv], [{ PLAIN: 'p' }, { API_KEY: '***', DB_PASSWORD: '***' }]);
  assert.not.ok(audit.stdout.includes('k-123') || audit.stdout.includes('from env'), 'no secret in the audit log');
  const unset = await run(['tasks', 'run', 'web-1', '--secret-env', 'NOT_SET_ANYWHERE', '--', 'true']);
  assert.is(unset.code, 2);
  assert.is(unset.stderr, 'Error: --secret-env NOT_SET_ANYWHERE: $NOT_SET_ANYWHERE is not set in opsctl\'s environment (export it, or give NOT_SET_ANYWHERE=value)\n');
});

// Last: it stops the manager.
test('--script takes its interpreter from the #! line; an unknown one is a usage error and stores nothing', async () => {
  const file = join(scratch, 'probe.py');
  writeFileSync(file, '#!/usr/bin/env python3\nimport sys\nprint("python", sys.version_info[0])\n');
  const r = await run(['tasks', 'run', 'web-1', '--script', file]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'web-1: python 3\n');
  assert.is((await latestTask()).interpreter, 'python');
  const perl = join(scratch, 'probe.pl');
  writeFileSync(perl, '#!/usr/bin/perl\nprint "hi";\n');
  const before = await taskCount();
  const refused = await run(['tasks', 'run', 'web-1', '--script', perl]);
  assert.is(refused.code, 2);
  assert.match(refused.stderr, /cannot tell the interpreter from "#!\/usr\/bin\/perl": use --interpreter/);
  assert.is(await taskCount(), before);
});

test('the manager going away before `done` is an error, exit 1', async () => {
  const latestTaskFromDisk = async () => (await db!.em.fork().find(Task, {}, { orderBy: { createdAt: 'desc' }, limit: 1 }))[0];
  let stopped = false;
  const r = await run(['tasks', 'run', 'web-1', '--', 'echo partial; sleep 30'], {
    timeoutMs: 60_000,
    onStdout: (text) => { if (!stopped && text.includes('web-1: partial\n')) { stopped = true; stack!.manager.kill('SIGTERM'); } },
  });
  assert.ok(stopped);
  assert.is(r.code, 1, r.stderr);
  assert.is(r.stdout, 'web-1: partial\n');
  // A stopping manager either ends its event streams or drops the connection; opsctl tries to
  // resume (numbered events) until it gives up, or cannot (an older manager's unnumbered events).
  // When the stream ended it prints the summary so far; either way the last line is one error naming the task.
  const { id } = await latestTaskFromDisk();
  const ended = `1 node: 0 succeeded, 1 did not finish (web-1) in <t> so far\n` +
    `Error: the manager closed the event stream of task ${id} before it finished; see 'opsctl tasks show ${id}'\n`;
  const dropped = (why: string) => `Error: lost the event stream of task ${id} from ${stack!.httpUrl} (${why}); see 'opsctl tasks show ${id}'\n`;
  const stderr = afterAccepted(r.stderr).replace(/ in \d+(\.\d+)? (ms|s) so far/, ' in <t> so far');
  assert.ok([ended, dropped('connection closed'), dropped('connection refused')].includes(stderr), stderr);
});

test.run();
