// Templates through the REST app on a real database: versions, running one as a task (its
// parameters checked and sent as OPS_PARAM_* in the dispatch's environment, never in the script),
// permissions, audit, and deleting one that schedules use. SQLite always; MariaDB when configured.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AuditEntryView } from '../../proto/rest/audit.js';
import type { ScheduleDetail } from '../../proto/rest/schedules.js';
import type { TaskDetail } from '../../proto/rest/tasks.js';
import type { TemplateSummary, TemplateView } from '../../proto/rest/templates.js';
import { DB_KINDS, makeHarness, type FakeSession, type Harness } from './harness.js';

const SCRIPT = 'echo "deploying $OPS_PARAM_COUNT to $OPS_PARAM_ENV"\n';
const PARAMS = [
  { name: 'count', type: 'int', default: '3' },
  { name: 'env', type: 'enum', values: ['prod', 'staging'] },
  { name: 'dry_run', type: 'bool', default: 'false' },
];

for (const kind of DB_KINDS) {
  const test = suite<{ h: Harness; node: FakeSession }>(`templates on ${kind}`);
  test.before(async (ctx) => {
    ctx.h = await makeHarness(kind);
    const id = await ctx.h.enroll('tpl-1', { role: 'tpl' });
    ctx.node = await ctx.h.connect(id, 'tpl-1');
  });
  test.after(async (ctx) => { await ctx.h?.close(); });

  const lastAudit = async (h: Harness, action: string) => (await h.api<AuditEntryView[]>('GET', `/audit?limit=1&action=${action}`)).body.data[0];
  const refused = async (h: Harness, method: string, url: string, body: unknown, status: number, pattern: RegExp, token?: string) => {
    const r = await h.api(method, url, body, token);
    assert.is(r.status, status, JSON.stringify(r.body));
    assert.match(r.body.message, pattern);
    return r;
  };

  test('create, show, list; a second create of the name is refused pointing at update', async ({ h }) => {
    const r = await h.api<TemplateView>('POST', '/templates', { name: 'deploy', script: SCRIPT, interpreter: 'bash', params: PARAMS, description: 'Deploys' });
    assert.is(r.status, 201, JSON.stringify(r.body));
    const t = r.body.data;
    assert.is(t.latestVersion, 1);
    assert.is(t.current.version, 1);
    assert.is(t.current.kind, 'script');
    assert.is(t.current.script, SCRIPT);
    assert.is(t.current.interpreter, 'bash');
    assert.equal(t.current.params, [
      { name: 'count', type: 'int', default: '3', required: false },
      { name: 'env', type: 'enum', values: ['prod', 'staging'], required: true },
      { name: 'dry_run', type: 'bool', default: 'false', required: false },
    ]);
    assert.is(t.createdBy, h.admin.username);
    assert.equal(t.schedules, []);
    const audit = await lastAudit(h, 'templates.create');
    assert.is(audit.target, 'deploy');
    assert.is(audit.result, 'ok');

    const list = (await h.api<TemplateSummary[]>('GET', '/templates')).body.data;
    assert.equal(list.map((x) => [x.name, x.latestVersion, x.description, x.params.length]), [['deploy', 1, 'Deploys', 3]]);

    await refused(h, 'POST', '/templates', { name: 'deploy', script: 'true' }, 409, /template "deploy" already exists: add a version with opsctl templates update deploy/);
  });

  test('bad definitions are refused naming the parameter', async ({ h }) => {
    await refused(h, 'POST', '/templates', { name: 'bad', script: 'true', params: [{ name: 'n', type: 'int', default: 'x' }] }, 400, /parameter n: default "x" is not an integer/);
    await refused(h, 'POST', '/templates', { name: 'bad', script: 'true', params: [{ name: 'e', type: 'enum' }] }, 400, /parameter e: enum values/);
    await refused(h, 'POST', '/templates', { name: 'bad', script: 'true', params: [{ name: 'a', type: 'string' }, { name: 'A', type: 'string' }] }, 400, /both be OPS_PARAM_A/);
    await refused(h, 'POST', '/templates', { name: 'bad', script: 'true', params: [{ name: 'n', type: 'float' }] }, 400, /type/);
    await refused(h, 'POST', '/templates', { name: 'bad name', script: 'true' }, 400, /name/);
    assert.is((await h.api('GET', '/templates/bad')).status, 404);
  });

  test('update adds a version, keeping what it does not change; show any version', async ({ h }) => {
    const r = await h.api<TemplateView>('POST', '/templates/deploy/versions', { script: 'echo v2 $OPS_PARAM_ENV\n', description: 'Deploys, v2' });
    assert.is(r.status, 201, JSON.stringify(r.body));
    assert.is(r.body.data.latestVersion, 2);
    assert.is(r.body.data.current.script, 'echo v2 $OPS_PARAM_ENV\n');
    assert.is(r.body.data.current.interpreter, 'bash', 'kept from v1');
    assert.is(r.body.data.current.params.length, 3, 'kept from v1');
    assert.equal(r.body.data.versions.map((v) => [v.version, v.description]), [[2, 'Deploys, v2'], [1, 'Deploys']]);
    assert.is((await lastAudit(h, 'templates.update')).target, 'deploy');

    const v1 = (await h.api<TemplateView>('GET', '/templates/deploy?version=1')).body.data;
    assert.is(v1.current.version, 1);
    assert.is(v1.current.script, SCRIPT);
    assert.is(v1.latestVersion, 2);
    await refused(h, 'GET', '/templates/deploy?version=9', undefined, 404, /template "deploy" has no version 9 \(the latest is 2\)/);
    await refused(h, 'POST', '/templates/nope/versions', { script: 'true' }, 404, /template "nope" not found/);
    const versions = (await h.api<{ version: number }[]>('GET', '/templates/deploy/versions')).body.data;
    assert.equal(versions.map((v) => v.version), [2, 1]);
  });

  test('running a template: params checked and sent as OPS_PARAM_* env, the script untouched; the task records the version', async ({ h, node }) => {
    const sent = node.dispatches.length;
    const r = await h.api<TaskDetail>('POST', '/tasks', {
      selector: { names: ['tpl-1'] }, template: { name: 'deploy', version: 1, params: { count: '5', env: 'prod' } }, env: { EXTRA: 'x' },
    });
    assert.is(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.data.template, { name: 'deploy', version: 1 });
    assert.is(r.body.data.schedule, null);
    assert.is(r.body.data.script, SCRIPT);
    assert.equal(r.body.data.env, { EXTRA: 'x', OPS_PARAM_COUNT: '5', OPS_PARAM_ENV: 'prod', OPS_PARAM_DRY_RUN: 'false' });
    const d = node.dispatches[sent];
    assert.is(d.script?.script, SCRIPT, 'values are never spliced into the script');
    assert.is(d.script?.interpreter, 'bash');
    assert.equal(d.script?.env, { EXTRA: 'x', OPS_PARAM_COUNT: '5', OPS_PARAM_ENV: 'prod', OPS_PARAM_DRY_RUN: 'false' });

    const latest = await h.api<TaskDetail>('POST', '/tasks', { selector: { names: ['tpl-1'] }, template: { name: 'deploy', params: { env: 'staging' } } });
    assert.equal(latest.body.data.template, { name: 'deploy', version: 2 }, 'no version: the latest');
    assert.is(latest.body.data.env.OPS_PARAM_COUNT, '3', 'the default');
    const again = await h.api<TaskDetail>('POST', `/tasks/${r.body.data.id}/rerun`, {});
    assert.is(again.status, 201, JSON.stringify(again.body));
    assert.equal(again.body.data.template, { name: 'deploy', version: 1 }, 'a rerun records the template version it repeats');
    assert.equal(again.body.data.env, r.body.data.env);
  });

  test('plugin and service templates: a plugin\'s parameters come from the template\'s, typed; a service template takes none', async ({ h, node }) => {
    const probe = await h.api<TemplateView>('POST', '/templates', {
      name: 'probe', kind: 'plugin', plugin: { name: 'http-probe', params: { method: 'GET' } },
      params: [{ name: 'url', type: 'string' }, { name: 'timeout', type: 'int', default: '5' }],
    });
    assert.is(probe.status, 201, JSON.stringify(probe.body));
    assert.is(probe.body.data.current.kind, 'plugin');
    assert.equal(probe.body.data.current.taskParams, { name: 'http-probe', params: { method: 'GET' } });
    const sent = node.dispatches.length;
    const run = await h.api<TaskDetail>('POST', '/tasks', { selector: { names: ['tpl-1'] }, template: { name: 'probe', params: { url: 'http://127.0.0.1:1/', timeout: '07' } } });
    assert.is(run.status, 201, JSON.stringify(run.body));
    assert.is(run.body.data.kind, 'plugin');
    assert.equal(node.dispatches[sent].plugin, { name: 'http-probe', params: { method: 'GET', url: 'http://127.0.0.1:1/', timeout: '7' } });
    await refused(h, 'POST', '/tasks', { selector: { names: ['tpl-1'] }, template: { name: 'probe', params: { url: 'x', timeout: 'soon' } } }, 400, /parameter timeout: value "soon" is not an integer/);

    const svc = await h.api<TemplateView>('POST', '/templates', { name: 'restart-web', kind: 'service', service: { action: 'restart', name: 'nginx' } });
    assert.is(svc.status, 201, JSON.stringify(svc.body));
    const svcRun = await h.api<TaskDetail>('POST', '/tasks', { selector: { names: ['tpl-1'] }, template: { name: 'restart-web' } });
    assert.is(svcRun.status, 201, JSON.stringify(svcRun.body));
    assert.equal(node.dispatches.at(-1)!.service, { action: 'restart', name: 'nginx' });

    await refused(h, 'POST', '/templates', { name: 'svc-params', kind: 'service', service: { action: 'stop', name: 'x' }, params: [{ name: 'a', type: 'string' }] }, 400, /a service template takes no parameters/);
    await refused(h, 'POST', '/templates', { name: 'no-plugin', kind: 'plugin' }, 400, /a plugin template needs its plugin/);
    await refused(h, 'POST', '/templates', { name: 'mixed', script: 'true', plugin: { name: 'x' } }, 400, /a script template takes no plugin/);
    await refused(h, 'POST', '/templates', { name: 'no-script' }, 400, /a script template needs its script/);
    // An update that changes only the description keeps what the template runs.
    const v2 = await h.api<TemplateView>('POST', '/templates/probe/versions', { description: 'probe a URL' });
    assert.is(v2.body.data.current.kind, 'plugin');
    assert.equal(v2.body.data.current.taskParams, { name: 'http-probe', params: { method: 'GET' } });
    assert.is(v2.body.data.current.params.length, 2);
  });

  test('bad runs are refused with 1001 naming the parameter, before anything is stored', async ({ h }) => {
    const run = (template: object, extra: object = {}) => ({ selector: { names: ['tpl-1'] }, template, ...extra });
    const cases: [object, RegExp][] = [
      [run({ name: 'deploy', params: { env: 'prod', colour: 'red' } }), /unknown parameter colour/],
      [run({ name: 'deploy', params: { env: 'prod', count: 'five' } }), /parameter count: value "five" is not an integer/],
      [run({ name: 'deploy', params: { count: '1' } }), /parameter env is required/],
      [run({ name: 'deploy', params: { env: 'dev' } }), /parameter env: value "dev" is not one of prod, staging/],
      [run({ name: 'deploy', params: { env: 'prod', dry_run: 'perhaps' } }), /parameter dry_run: value "perhaps" is not a boolean/],
      [run({ name: 'deploy', params: { env: 'prod' } }, { script: 'rm -rf /' }), /body\/script: a task run from a template takes its script from the template/],
      [run({ name: 'deploy', params: { env: 'prod' } }, { env: { OPS_PARAM_ENV: 'staging' } }), /OPS_PARAM_ENV: OPS_PARAM_\* variables are the template's parameters/],
    ];
    const before = (await h.api<unknown[]>('GET', '/tasks?limit=1000')).body.data.length;
    for (const [body, pattern] of cases) {
      const r = await refused(h, 'POST', '/tasks', body, 400, pattern);
      assert.is(r.body.code, 1001);
    }
    await refused(h, 'POST', '/tasks', run({ name: 'gone' }), 404, /template "gone" not found/);
    await refused(h, 'POST', '/tasks', run({ name: 'deploy', version: 7, params: { env: 'prod' } }), 404, /has no version 7/);
    assert.is((await h.api<unknown[]>('GET', '/tasks?limit=1000')).body.data.length, before);
  });

  test('permissions: viewers read templates but neither write nor run them; operators do both', async ({ h }) => {
    const viewer = await h.user('tpl-viewer', 'viewer');
    assert.is((await h.api('GET', '/templates/deploy', undefined, viewer)).status, 200);
    await refused(h, 'POST', '/templates', { name: 'v', script: 'true' }, 403, /permission templates:write required/, viewer);
    await refused(h, 'POST', '/tasks', { selector: { names: ['tpl-1'] }, template: { name: 'deploy', params: { env: 'prod' } } }, 403, /permission tasks:run required/, viewer);
    const operator = await h.user('tpl-operator', 'operator');
    assert.is((await h.api('POST', '/templates', { name: 'op-tpl', script: 'true' }, operator)).status, 201);
    assert.is((await h.api('POST', '/tasks', { selector: { names: ['tpl-1'] }, template: { name: 'op-tpl' } }, operator)).status, 201);
    assert.is((await h.api('DELETE', '/templates/op-tpl', undefined, operator)).status, 200);
  });

  test('rm refuses while a schedule uses the template, naming it; --force deletes and pauses the schedule with the reason', async ({ h }) => {
    assert.is((await h.api('POST', '/templates', { name: 'nightly-tpl', script: 'true' })).status, 201);
    const s = await h.api('POST', '/schedules', { name: 'nightly', cron: '0 3 * * *', template: 'nightly-tpl', selector: { names: ['tpl-1'] } });
    assert.is(s.status, 201, JSON.stringify(s.body));
    assert.equal((await h.api<TemplateView>('GET', '/templates/nightly-tpl')).body.data.schedules, ['nightly']);

    const r = await refused(h, 'DELETE', '/templates/nightly-tpl', undefined, 409, /template "nightly-tpl" is used by schedule nightly: delete it first, or use --force to pause it/);
    assert.equal(r.body.data, { schedules: ['nightly'] });
    assert.is((await lastAudit(h, 'templates.delete')).result, 'error');

    const forced = await h.api<{ pausedSchedules: string[] }>('DELETE', '/templates/nightly-tpl?force=true');
    assert.is(forced.status, 200, JSON.stringify(forced.body));
    assert.equal(forced.body.data.pausedSchedules, ['nightly']);
    assert.is((await h.api('GET', '/templates/nightly-tpl')).status, 404);
    const schedule = (await h.api<ScheduleDetail>('GET', '/schedules/nightly')).body.data;
    assert.is(schedule.paused, true);
    assert.is(schedule.pausedReason, 'template "nightly-tpl" was deleted');
    assert.is(schedule.nextFireAt, null);
    await refused(h, 'POST', '/schedules/nightly/resume', undefined, 404, /template "nightly-tpl" not found/);
    assert.is((await h.api('DELETE', '/schedules/nightly')).status, 200);
  });

  test('deleting a template keeps the history of the tasks that ran it', async ({ h }) => {
    const tasks = (await h.api<{ template: { name: string } | null }[]>('GET', '/tasks?limit=1000')).body.data;
    assert.ok(tasks.some((t) => t.template?.name === 'op-tpl'));
    await refused(h, 'DELETE', '/templates/op-tpl', undefined, 404, /template "op-tpl" not found/);
  });

  test.run();
}
