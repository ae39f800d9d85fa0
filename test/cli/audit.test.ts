// The audit log through opsctl against the real manager: what the test did shows up, newest first,
// with filters and secrets masked; verify passes on the intact chain and fails on a changed row.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AuditEntryView, AuditVerifyResult } from '../../proto/rest/audit.js';
import { startManager, type TestManager } from './manager.js';
import { ConfigHome, ensureBuilt, opsctl, type RunOptions } from './run-opsctl.js';

const home = new ConfigHome();
let m: TestManager;
const run = (args: string[], opts: RunOptions = {}) => opsctl(home, args, { ...opts, env: { OPSCTL_SERVER: m.url, OPSCTL_TOKEN: m.token, ...opts.env } });
/** action, actor, target, result of each piped row. */
const rows = (tsv: string) => tsv.trimEnd().split('\n').filter(Boolean).map((l) => l.split('\t')).map((c) => [c[3], c[2], c[4], c[5]]);

test.before(async () => {
  ensureBuilt();
  m = await startManager();
  // What the tests below find in the log.
  const steps: [string[], string?][] = [
    [['users', 'create', 'audited', '--role', 'viewer', '--password-stdin'], 'audited-password-1\n'],
    [['roles', 'create', 'reader', '--permission', 'nodes:read']],
    [['tokens', 'create', '--name', 'audit-ci', '--role', 'viewer']],
    [['users', 'set-role', 'audited', 'reader']],
  ];
  for (const [args, stdin] of steps) {
    const r = await run(args, { stdin });
    assert.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  const refused = await run(['users', 'rm', 'nobody', '--yes']);
  assert.is(refused.code, 1);
  const badLogin = await opsctl(home, ['login', '--server', m.url, '--username', 'audited', '--password', 'wrong']);
  assert.is(badLogin.code, 1);
});
test.after(async () => {
  await m?.stop();
  home.remove();
});

test('audit ls piped: newest first, actor kind:name, result ok or the error code', async () => {
  const r = await run(['audit', 'ls']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  const got = rows(r.stdout);
  assert.equal(got.slice(0, 6), [
    ['auth.login', 'user:audited', 'audited', '1002'],
    ['users.delete', 'user:admin', 'nobody', '1004'],
    ['users.set-role', 'user:admin', 'audited', 'ok'],
    ['tokens.create', 'user:admin', got[3][2], 'ok'],
    ['roles.create', 'user:admin', 'reader', 'ok'],
    ['users.create', 'user:admin', 'audited', 'ok'],
  ]);
  const lines = r.stdout.trimEnd().split('\n').map((l) => l.split('\t'));
  const ids = lines.map((c) => Number(c[0]));
  assert.equal(ids, [...ids].sort((a, b) => b - a), 'newest first');
  for (const c of lines) {
    assert.is(c.length, 7, c.join('|'));
    assert.match(c[1], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(c[6] !== '', 'a source address');
  }
  assert.is((await run(['audit'])).stdout, r.stdout, '`audit` is `audit ls`');
  const tty = await run(['audit'], { tty: true });
  assert.match(tty.stdout, /^ID\s+TIME\s+ACTOR\s+ACTION\s+TARGET\s+RESULT\s+SOURCE\n\d+\s+\d+s ago\s+user:audited\s+auth\.login\s+audited\s+error 1002\s+\S+\n/);
});

test('audit ls filters: --action (exact or prefix), --actor, --target, --limit, --since', async () => {
  const actions = async (args: string[]) => rows((await run(['audit', 'ls', ...args])).stdout).map((x) => x[0]);
  assert.equal(await actions(['--action', 'users.']), ['users.delete', 'users.set-role', 'users.create']);
  assert.equal(await actions(['--action', 'roles.create']), ['roles.create']);
  assert.equal(await actions(['--actor', 'audited']), ['auth.login']);
  assert.equal(await actions(['--target', 'audited']), ['auth.login', 'users.set-role', 'users.create']);
  assert.equal(await actions(['--limit', '2']), ['auth.login', 'users.delete']);
  assert.equal((await actions(['--since', '1h'])).length, (await actions([])).length);
  assert.equal(await actions(['--since', new Date(Date.now() + 60_000).toISOString()]), []);
  const bad = await run(['audit', 'ls', '--since', 'yesterday']);
  assert.is(bad.code, 2);
  assert.is(bad.stderr, 'Error: --since: "yesterday" is neither a duration (90s, 15m, 1h, 7d) nor an RFC 3339 time\n');
});

test('audit ls --json: the API rows, with secrets masked in the parameters', async () => {
  const r = await run(['audit', 'ls', '--action', 'users.create', '--json']);
  assert.is(r.code, 0, r.stderr);
  const entries = JSON.parse(r.stdout) as AuditEntryView[];
  assert.equal(entries, await m.apiData<AuditEntryView[]>('/audit?action=users.create'));
  assert.is(entries.length, 1);
  assert.equal(entries[0].params, { username: 'audited', role: 'viewer', password: '***' });
  assert.not.ok(r.stdout.includes('audited-password-1'));
});

test('audit verify: intact, exit 0; --json is the result', async () => {
  const r = await run(['audit', 'verify']);
  assert.is(r.code, 0, r.stderr);
  const checked = Number(/^audit log intact: (\d+) rows checked\n$/.exec(r.stdout)?.[1]);
  assert.ok(checked >= 7, r.stdout);
  const json = JSON.parse((await run(['audit', 'verify', '--json'])).stdout) as AuditVerifyResult;
  assert.equal([json.ok, json.firstBroken], [true, null]);
});

test('audit verify: a changed row breaks the chain, exit 1 naming the row', async () => {
  const [entry] = await m.apiData<AuditEntryView[]>('/audit?action=roles.create');
  const em = (await m.db()).em.fork();
  await em.getConnection().execute(`update audit_log set target = 'someone-else' where id = ${entry.id}`);
  const r = await run(['audit', 'verify']);
  assert.is(r.code, 1);
  assert.is(r.stdout, '');
  assert.match(r.stderr, new RegExp(`^Error: audit log broken at row ${entry.id}: .+\\n$`));
  const json = await run(['audit', 'verify', '--json']);
  assert.is(json.code, 1);
  assert.is((JSON.parse(json.stdout) as AuditVerifyResult).firstBroken?.id, entry.id);
});

test.run();
