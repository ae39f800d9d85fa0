// templates and schedules through the real opsctl on the real path: the local stack (manager,
// hostd and agentd as processes) with node tpl-1. A template's parameter reaches the script on
// the host as $OPS_PARAM_<NAME>; tables are checked against golden files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScheduleDetail, ScheduleView } from '../../proto/rest/schedules.js';
import type { TaskDetail } from '../../proto/rest/tasks.js';
import type { TemplateView } from '../../proto/rest/templates.js';
import { api, startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { freePorts } from '../helpers/ports.js';
import { assertGolden } from './golden.js';
import { ConfigHome, ensureBuilt, opsctl, type RunOptions } from './run-opsctl.js';

const home = new ConfigHome();
const scratch = mkdtempSync(join(tmpdir(), 'opsctl-cli-templates-'));
let stack: LocalStack | undefined;
const run = (args: string[], opts: RunOptions = {}) => opsctl(home, args, { timeoutMs: 30_000, ...opts, env: { OPSCTL_SERVER: stack!.httpUrl, OPSCTL_TOKEN: stack!.token, ...opts.env } });
const apiData = async <T>(path: string): Promise<T> => (await api<T>(stack!.httpUrl, stack!.token, 'GET', path)).body.data;

const normalise = (text: string) => text.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, '<time>');

const script = join(scratch, 'report.sh');

test.before(async () => {
  ensureBuilt();
  const [httpPort, grpcPort, agentPort] = await freePorts(3);
  stack = await startLocalStack({ dataDir: join(scratch, 'stack'), httpPort, grpcPort, agentPort, nodeName: 'tpl-1', logLevel: 'warn' });
  writeFileSync(script, '#!/bin/bash\necho "count=$OPS_PARAM_COUNT env=$OPS_PARAM_ENV note=$OPS_PARAM_NOTE"\n');
});

test.after(async () => {
  await stack?.stop();
  home.remove();
  rmSync(scratch, { recursive: true, force: true });
});

test('templates create: parameters parsed and checked, interpreter from the #! line; ls and show', async () => {
  const r = await run(['templates', 'create', 'report', '--script', script, '--param', 'count:int=3', '--param', 'env:enum(prod,staging)', '--param', 'note', '--description', 'Reports']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, 'Created template report (version 1, 3 parameters).\n');
  assert.is(r.stdout, '');
  const stored = await apiData<TemplateView>('/templates/report');
  assert.is(stored.current.interpreter, 'bash');
  assert.equal(stored.current.params.map((p) => [p.name, p.type, p.default ?? null, p.required]), [['count', 'int', '3', false], ['env', 'enum', null, true], ['note', 'string', null, true]]);

  const ls = await run(['templates', 'ls']);
  assert.is(ls.code, 0, ls.stderr);
  assertGolden('templates-ls.tsv', normalise(ls.stdout));
  const show = await run(['templates', 'show', 'report']);
  assert.is(show.code, 0, show.stderr);
  assertGolden('templates-show.tsv', normalise(show.stdout));
  const tty = await run(['templates', 'show', 'report'], { tty: true });
  assert.match(tty.stdout, /PARAM\s+TYPE\s+DEFAULT\s+VARIABLE\ncount\s+int\s+3\s+OPS_PARAM_COUNT\nenv\s+enum\(prod,staging\)\s+\(required\)\s+OPS_PARAM_ENV\n/);
  assert.match(tty.stdout, /Script:\n {4}#!\/bin\/bash\n {4}echo "count=\$OPS_PARAM_COUNT/);
  const json = JSON.parse((await run(['templates', 'show', 'report', '--json'])).stdout) as TemplateView;
  assert.equal(json, await apiData<TemplateView>('/templates/report'));
});

test('templates create: bad parameters and an existing name are refused', async () => {
  const bad = await run(['templates', 'create', 'bad', '--script', script, '--param', 'count:integer']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /^Error: --param parameter count: unknown type "integer"/);
  const noScript = await run(['templates', 'create', 'bad']);
  assert.is(noScript.code, 2);
  assert.match(noScript.stderr, /what the template runs is required: --script FILE, --plugin NAME, or --service NAME --action ACTION/);
  const noAction = await run(['templates', 'create', 'bad', '--service', 'nginx']);
  assert.is(noAction.code, 2);
  assert.match(noAction.stderr, /--service NAME and --action ACTION go together/);
  const dup = await run(['templates', 'create', 'report', '--script', script]);
  assert.is(dup.code, 1);
  assert.match(dup.stderr, /template "report" already exists: add a version with opsctl templates update report/);
});

test('tasks run --template: -p values reach the script on the host as OPS_PARAM_*, never in its text', async () => {
  const r = await run(['tasks', 'run', 'tpl-1', '--template', 'report', '-p', 'count=5', '-p', 'env=prod', '-p', 'note=$(touch /tmp/x); `id`']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'tpl-1: count=5 env=prod note=$(touch /tmp/x); `id`\n');
  const tasks = await apiData<{ id: string }[]>('/tasks?limit=1');
  const task = await apiData<TaskDetail>(`/tasks/${tasks[0].id}`);
  assert.equal(task.template, { name: 'report', version: 1 });
  assert.is(task.env.OPS_PARAM_COUNT, '5');

  const wrong = await run(['tasks', 'run', 'tpl-1', '--template', 'report', '-p', 'count=many', '-p', 'env=prod', '-p', 'note=x']);
  assert.is(wrong.code, 1);
  assert.is(wrong.stderr, 'Error: template report v1: parameter count: value "many" is not an integer (code 1001)\n');
  const both = await run(['tasks', 'run', 'tpl-1', '--template', 'report', '--', 'uptime']);
  assert.is(both.code, 2);
  assert.match(both.stderr, /drop the command after --/);
});

test('templates create --plugin: the parameters become the plugin\'s; show names the kind and the plugin', async () => {
  const r = await run(['templates', 'create', 'probe', '--plugin', 'http-probe', '--param', 'url:string', '--param', 'timeout:int=5']);
  assert.is(r.code, 0, r.stderr);
  const show = await run(['templates', 'show', 'probe']);
  assert.match(show.stdout, /^kind\tplugin$/m);
  assert.match(show.stdout, /^plugin\thttp-probe$/m);
  assert.not.match(show.stdout, /interpreter/);
  const svc = await run(['templates', 'create', 'restart-web', '--service', 'nginx', '--action', 'restart', '--param', 'x:string']);
  assert.is(svc.code, 1);
  assert.match(svc.stderr, /a service template takes no parameters/);
});

test('templates update adds a version; show --version shows an older one', async () => {
  const r = await run(['templates', 'update', 'report', '--description', 'Reports, v2']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, 'Template report is now at version 2.\n');
  const v1 = await run(['templates', 'show', 'report', '--version', '1']);
  assert.match(v1.stdout, /^version\t1 \(latest is 2\)$/m);
  assert.match(v1.stdout, /^description\tReports$/m);
  const nothing = await run(['templates', 'update', 'report']);
  assert.is(nothing.code, 2);
  assert.match(nothing.stderr, /nothing to change/);
});

test('schedules create and ls; templates rm refuses while the schedule uses it', async () => {
  const r = await run(['schedules', 'create', 'nightly', 'tpl-1', '--cron', '0 3 * * *', '--tz', 'Europe/Berlin', '--template', 'report',
    '-p', 'env=staging', '-p', 'note=nightly', '--batch', '1', '--catch-up', '--timeout', '10m']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /^Created schedule nightly; next fire \d{4}-\d\d-\d\dT0[12]:00:00\.000Z\.\n$/);
  const stored = await apiData<ScheduleDetail>('/schedules/nightly');
  assert.equal([stored.selector, stored.params, stored.rollout, stored.catchUp, stored.timeoutSeconds], [{ names: ['tpl-1'] }, { env: 'staging', note: 'nightly' }, { batch: '1' }, true, 600]);

  const every = await run(['schedules', 'create', 'busy', '--all', '--cron', '* * * * * *', '--template', 'report', '-p', 'env=prod', '-p', 'note=x']);
  assert.is(every.code, 1);
  assert.match(every.stderr, /fires every 1 s, more often than schedules.minIntervalSeconds \(60 s\) allows/);
  const noNodes = await run(['schedules', 'create', 'nowhere', '--cron', '0 3 * * *', '--template', 'report']);
  assert.is(noNodes.code, 2);

  const ls = await run(['schedules', 'ls']);
  assert.is(ls.code, 0, ls.stderr);
  assertGolden('schedules-ls.tsv', normalise(ls.stdout));
  const json = JSON.parse((await run(['schedules', 'ls', '--json'])).stdout) as ScheduleView[];
  assert.equal(json.map((s) => s.name), ['nightly']);

  const rm = await run(['templates', 'rm', 'report', '--yes']);
  assert.is(rm.code, 1);
  assert.match(rm.stderr, /template "report" is used by schedule nightly: delete it first, or use --force to pause it/);
  const forced = await run(['templates', 'rm', 'report', '--yes', '--force']);
  assert.is(forced.code, 0, forced.stderr);
  assert.is(forced.stderr, 'Deleted template report; paused schedule nightly.\n');
  const after = await run(['schedules', 'ls']);
  assert.match(after.stdout, /^nightly\t.*\tpaused: template "report" was deleted\n$/);

  const pause = await run(['schedules', 'pause', 'nightly', '--reason', 'done']);
  assert.is(pause.code, 0, pause.stderr);
  const resume = await run(['schedules', 'resume', 'nightly']);
  assert.is(resume.code, 1);
  assert.match(resume.stderr, /template "report" not found/);
  const del = await run(['schedules', 'rm', 'nightly', '--yes']);
  assert.is(del.code, 0, del.stderr);
  assert.equal(await apiData<ScheduleView[]>('/schedules'), []);
});

test.run();
