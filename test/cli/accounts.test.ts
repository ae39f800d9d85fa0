// Accounts against the real manager: whoami, users (create, ls, show, set-role, rm), roles,
// passwd (own and admin reset) and logout, as the admin and as the users the tests create.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse } from 'yaml';
import { ALL_PERMISSIONS, PERMISSIONS } from '../../proto/permissions.js';
import type { Whoami } from '../../proto/rest/auth.js';
import type { RoleView } from '../../proto/rest/roles.js';
import type { UserCreated, UserView } from '../../proto/rest/users.js';
import { freePort } from '../helpers/ports.js';
import { assertGolden } from './golden.js';
import { startManager, type TestManager } from './manager.js';
import { seedGroups } from './fixtures.js';
import { ConfigHome, ensureBuilt, opsctl, type RunOptions } from './run-opsctl.js';

const home = new ConfigHome();
const homes: ConfigHome[] = [home];
let m: TestManager;
/** As the admin, with the admin's token in the environment. */
const run = (args: string[], opts: RunOptions = {}) => opsctl(home, args, { ...opts, env: { OPSCTL_SERVER: m.url, OPSCTL_TOKEN: m.token, ...opts.env } });
const TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g;
const PASSWORD_LINE = /^password: (\S+)\n$/;

/** A fresh config home signed in as `username` with `opsctl login`. */
async function loggedIn(username: string, password: string): Promise<ConfigHome> {
  const h = new ConfigHome();
  homes.push(h);
  const r = await opsctl(h, ['login', '--server', m.url, '--username', username, '--password-stdin'], { stdin: `${password}\n` });
  assert.is(r.code, 0, r.stderr);
  return h;
}
const savedConfig = (h: ConfigHome) => parse(readFileSync(h.configFile, 'utf8')) as { server?: string; token?: string; user?: string };
const status = async (token: string, path = '/nodes') => (await fetch(`${m.url}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } })).status;
async function canLogin(username: string, password: string): Promise<boolean> {
  const res = await fetch(`${m.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  return res.status === 200;
}

test.before(async () => {
  ensureBuilt();
  m = await startManager();
  await seedGroups(m, { web: [], db: [] });
});
test.after(async () => {
  await m?.stop();
  for (const h of homes) h.remove();
});

test('whoami: the admin user, every permission, all nodes; --json is the API object', async () => {
  const r = await run(['whoami']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.is(r.stdout.replace(TIME, '<time>'),
    `kind\tuser\nname\tadmin\nowner\t\nrole\tadmin\nscope_groups\t\npermissions\t${[...ALL_PERMISSIONS].sort().join(',')}\nexpires\t<time>\n`);
  const json = JSON.parse((await run(['whoami', '--json'])).stdout) as Whoami;
  assert.equal(json, await m.apiData<Whoami>('/auth/whoami'));
  const tty = await run(['whoami'], { tty: true });
  assert.is(tty.code, 0, tty.stdout);
  assert.match(tty.stdout, /^Kind:\s+user\nName:\s+admin\nRole:\s+admin\nScope:\s+all nodes\nPermissions:\s+audit:read, clients:read, /);
  assert.match(tty.stdout, /\nExpires:\s+\S+ \(in \d+[smhd]\)\n$/);
});

test('users create without a password: the generated one printed once on stdout, a hint on stderr', async () => {
  const r = await run(['users', 'create', 'alice', '--role', 'operator']);
  assert.is(r.code, 0, r.stderr);
  const password = PASSWORD_LINE.exec(r.stdout)?.[1] ?? '';
  assert.ok(password.length >= 12, r.stdout);
  assert.match(r.stderr, /^Created user alice \(operator on all nodes\)\.\nThe password is shown only now: pass it on over a safe channel/);
  assert.not.ok(r.stderr.includes(password), 'the password is not repeated on stderr');
  assert.ok(await canLogin('alice', password), 'the printed password is the user\'s');
});

test('users create --password-stdin --scope-group, and --json gives the whole answer', async () => {
  const r = await run(['users', 'create', 'bob', '--role', 'viewer', '--scope-group', 'web', '--scope-group', 'db', '--password-stdin'], { stdin: 'bob-password-123\n' });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '', 'nothing generated, nothing to print');
  assert.is(r.stderr, 'Created user bob (viewer on groups web,db).\n');
  assert.ok(await canLogin('bob', 'bob-password-123'));
  const json = await run(['users', 'create', 'carol', '--role', 'viewer', '--json']);
  assert.is(json.code, 0, json.stderr);
  const created = JSON.parse(json.stdout) as UserCreated;
  assert.equal(Object.keys(created).sort(), ['password', 'user']);
  assert.is(created.user.username, 'carol');
  assert.ok(await canLogin('carol', created.password!));
});

test('users create: a role that does not exist and a taken name are the manager\'s errors', async () => {
  const noRole = await run(['users', 'create', 'dave', '--role', 'superuser']);
  assert.is(noRole.code, 1);
  assert.is(noRole.stderr, 'Error: role "superuser" does not exist (opsctl roles ls) (code 1001)\n');
  const taken = await run(['users', 'create', 'alice', '--role', 'viewer']);
  assert.is(taken.code, 1);
  assert.match(taken.stderr, /^Error: .*alice.* \(code 1005\)\n$/);
  // oclif would take a missing argument from piped standard input: here, the password.
  const noName = await run(['users', 'create', '--role', 'viewer', '--password-stdin'], { stdin: 'secret-password-1\n' });
  assert.is(noName.code, 2);
  assert.match(noName.stderr, /^Error: Missing 1 required arg: name /);
  assert.not.ok(noName.stderr.includes('secret-password-1'));
  const noFlag = await run(['users', 'create', 'dave']);
  assert.is(noFlag.code, 2);
  assert.match(noFlag.stderr, /^Error: Missing required flag role/);
});

test('users ls piped (golden), --json is the API list, `users` is `users ls`', async () => {
  const r = await run(['users', 'ls']);
  assert.is(r.code, 0, r.stderr);
  assertGolden('users-ls.tsv', r.stdout.replace(TIME, '<time>'));
  assert.is((await run(['users'])).stdout, r.stdout);
  assert.equal(JSON.parse((await run(['users', 'ls', '--json'])).stdout), await m.apiData<UserView[]>('/users'));
  const tty = await run(['users'], { tty: true });
  assert.match(tty.stdout, /^NAME\s+ROLE\s+SCOPE\s+CREATED\nadmin\s+admin\s+all nodes\s+\d+s ago\nalice\s+operator\s+all nodes\s+\d+s ago\nbob\s+viewer\s+web,db\s+\d+s ago\n/);
});

test('users show: key<TAB>value piped, fields on a terminal; a missing user is 1004', async () => {
  const bob = (await m.apiData<UserView[]>('/users')).find((u) => u.username === 'bob')!;
  const r = await run(['users', 'show', 'bob']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, `name\tbob\nid\t${bob.id}\nrole\tviewer\nscope_groups\tweb,db\ncreated\t${bob.createdAt}\n`);
  const yaml = await run(['users', 'show', 'bob', '-o', 'yaml']);
  assert.equal(parse(yaml.stdout), bob);
  const missing = await run(['users', 'show', 'nobody']);
  assert.is(missing.code, 1);
  assert.is(missing.stderr, 'Error: user "nobody" not found (code 1004)\n');
});

test('users set-role: --scope-group replaces the scope, no flag keeps it, --all-groups lifts it', async () => {
  const scope = async () => (await m.apiData<UserView>('/users/bob')).scopeGroups;
  let r = await run(['users', 'set-role', 'bob', 'operator', '--scope-group', 'web']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, 'bob is now operator on group web.\n');
  assert.equal(await scope(), ['web']);
  r = await run(['users', 'set-role', 'bob', 'viewer']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, 'bob is now viewer on group web.\n');
  assert.equal(await scope(), ['web']);
  r = await run(['users', 'set-role', 'bob', 'viewer', '--all-groups']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, 'bob is now viewer on all nodes.\n');
  assert.equal(await scope(), []);
  const both = await run(['users', 'set-role', 'bob', 'viewer', '--all-groups', '--scope-group', 'web']);
  assert.is(both.code, 2);
});

test('roles ls piped (golden) and on a terminal; roles show with what each permission allows', async () => {
  const r = await run(['roles']);
  assert.is(r.code, 0, r.stderr);
  assertGolden('roles-ls.tsv', r.stdout);
  const tty = await run(['roles', 'ls'], { tty: true });
  assertGolden('roles-ls.tty.txt', tty.stdout);
  const show = await run(['roles', 'show', 'operator'], { tty: true });
  assert.is(show.code, 0, show.stdout);
  assert.match(show.stdout, /^Name:\s+operator\nType:\s+built-in\n/);
  assert.match(show.stdout, new RegExp(`\\n  tasks:run\\s+${PERMISSIONS['tasks:run'].replace(/[.]/g, '\\.')}\\n`));
  const piped = await run(['roles', 'show', 'viewer']);
  assert.match(piped.stdout, /^name\tviewer\ntype\tbuilt-in\n/);
  const viewer = await m.apiData<RoleView>('/roles/viewer');
  assert.match(piped.stdout, new RegExp(`\\npermissions\\t${viewer.permissions.join(',')}\\n$`));
});

test('roles create checks permissions locally (exit 2, nothing sent), then creates; rm asks for --yes', async () => {
  const before = m.requestCount();
  const bad = await run(['roles', 'create', 'deployer', '--permission', 'nodes:read', '--permission', 'tasks:fly']);
  assert.is(bad.code, 2);
  assert.is(bad.stderr, `Error: unknown permission "tasks:fly": use ${Object.keys(PERMISSIONS).join(', ')}\n`);
  assert.is(m.requestCount(), before, 'nothing sent');

  const r = await run(['roles', 'create', 'deployer', '--permission', 'nodes:read,tasks:read', '--permission', 'tasks:run', '--description', 'Runs deployments']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, 'Created role deployer with 3 permissions.\n');
  const role = await m.apiData<RoleView>('/roles/deployer');
  assert.equal([role.permissions, role.description, role.builtin], [['nodes:read', 'tasks:read', 'tasks:run'], 'Runs deployments', false]);
  const json = JSON.parse((await run(['roles', 'show', 'deployer', '--json'])).stdout) as RoleView;
  assert.equal(json, role);

  // Held by a user: the manager refuses to delete it.
  assert.is((await run(['users', 'set-role', 'carol', 'deployer'])).code, 0);
  const inUse = await run(['roles', 'rm', 'deployer', '--yes']);
  assert.is(inUse.code, 1);
  assert.match(inUse.stderr, /^Error: .*deployer.* \(code 1005\)\n$/);
  assert.is((await run(['users', 'set-role', 'carol', 'viewer'])).code, 0);

  const noYes = await run(['roles', 'rm', 'deployer']);
  assert.is(noYes.code, 2);
  assert.is(noYes.stderr, 'Error: roles rm needs --yes when there is no terminal to confirm on\n');
  const rm = await run(['roles', 'rm', 'deployer', '--yes']);
  assert.is(rm.code, 0, rm.stderr);
  assert.is(rm.stderr, 'Deleted role deployer.\n');
  assert.is((await run(['roles', 'show', 'deployer'])).code, 1);
  const builtin = await run(['roles', 'rm', 'viewer', '--yes']);
  assert.is(builtin.stderr, 'Error: role "viewer" is built in and cannot be deleted (code 1005)\n');
});

test('a user without users:write gets the manager\'s 403', async () => {
  const { password } = JSON.parse((await run(['users', 'create', 'olga', '--role', 'operator', '--json'])).stdout) as UserCreated;
  const olga = await loggedIn('olga', password!);
  const r = await opsctl(olga, ['users', 'create', 'mallory', '--role', 'admin']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /^Error: permission users:write required \(your role is operator\) \(code 1003\)\n$/);
  const me = await opsctl(olga, ['whoami']);
  assert.match(me.stdout, /^kind\tuser\nname\tolga\nowner\t\nrole\toperator\n/);
});

test('passwd (own) with --password-stdin: ends the other sessions, keeps this one', async () => {
  const { password } = JSON.parse((await run(['users', 'create', 'erin', '--role', 'viewer', '--json'])).stdout) as UserCreated;
  const first = await loggedIn('erin', password!);
  const second = await loggedIn('erin', password!);
  const r = await opsctl(first, ['passwd', '--password-stdin'], { stdin: `${password}\nerin-new-password-1\n` });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '');
  assert.is(r.stderr, 'Changed the password of erin; ended 1 session elsewhere (this one stays signed in).\n');
  assert.ok(await canLogin('erin', 'erin-new-password-1'));
  assert.not.ok(await canLogin('erin', password!));
  assert.is(await status(savedConfig(first).token!), 200, 'this session stays');
  assert.is(await status(savedConfig(second).token!), 401, 'the other one ended');

  const wrong = await opsctl(first, ['passwd', '--password-stdin'], { stdin: 'not-the-password\nerin-new-password-2\n' });
  assert.is(wrong.code, 1);
  assert.is(wrong.stderr, 'Error: current password is wrong (code 1003)\n');
  const short = await opsctl(first, ['passwd', '--password-stdin'], { stdin: 'erin-new-password-1\nshort\n' });
  assert.is(short.code, 2);
  assert.is(short.stderr, 'Error: the new password is too short: use at least 12 characters\n');
  const oneLine = await opsctl(first, ['passwd', '--password-stdin'], { stdin: 'erin-new-password-1\n' });
  assert.is(oneLine.code, 2);
  assert.is(oneLine.stderr, 'Error: --password-stdin: expected two lines, the current password then the new one on standard input\n');
  const noTerminal = await opsctl(first, ['passwd']);
  assert.is(noTerminal.code, 2);
  assert.is(noTerminal.stderr, 'Error: there is no terminal to ask for passwords on: pass the current and the new password as two lines with --password-stdin\n');
});

test('passwd on a terminal asks for the current password and the new one twice', async () => {
  const { password } = JSON.parse((await run(['users', 'create', 'hana', '--role', 'viewer', '--json'])).stdout) as UserCreated;
  const h = await loggedIn('hana', password!);
  const differ = await opsctl(h, ['passwd'], { tty: true, stdin: `${password}\nhana-new-password-1\nhana-new-password-2\n` });
  assert.is(differ.code, 2, differ.stdout);
  assert.match(differ.stdout, /Current password: \nNew password: \nNew password again: \nError: the two new passwords differ; nothing was changed\n$/);
  assert.ok(await canLogin('hana', password!));
  const r = await opsctl(h, ['passwd'], { tty: true, stdin: `${password}\nhana-new-password-1\nhana-new-password-1\n` });
  assert.is(r.code, 0, r.stdout);
  // The session canLogin() opened above ends; this one stays.
  assert.match(r.stdout, /New password again: \nChanged the password of hana; ended 1 session elsewhere \(this one stays signed in\)\.\n$/);
  assert.ok(await canLogin('hana', 'hana-new-password-1'));
});

test('passwd USER (admin reset): a generated password printed once, or one from stdin; their sessions end', async () => {
  const erin = await loggedIn('erin', 'erin-new-password-1');
  const r = await run(['passwd', 'erin']);
  assert.is(r.code, 0, r.stderr);
  const generated = PASSWORD_LINE.exec(r.stdout)?.[1] ?? '';
  assert.ok(generated.length >= 12, r.stdout);
  assert.match(r.stderr, /^Reset the password of erin; ended [1-9]\d* sessions?\.\nThe password is shown only now/);
  assert.ok(await canLogin('erin', generated));
  assert.is(await status(savedConfig(erin).token!), 401);

  const chosen = await run(['passwd', 'erin', '--password-stdin'], { stdin: 'chosen-by-admin-1\n' });
  assert.is(chosen.code, 0, chosen.stderr);
  assert.is(chosen.stdout, '');
  assert.ok(await canLogin('erin', 'chosen-by-admin-1'));
  const json = JSON.parse((await run(['passwd', 'erin', '--json'])).stdout) as { password: string; sessionsRevoked: number };
  assert.ok(await canLogin('erin', json.password));
});

test('passwd without USER and no saved user name asks the manager who you are', async () => {
  const { password } = JSON.parse((await run(['users', 'create', 'frank', '--role', 'viewer', '--json'])).stdout) as UserCreated;
  const h = await loggedIn('frank', password!);
  const token = savedConfig(h).token!;
  const bare = new ConfigHome();
  homes.push(bare);
  const r = await opsctl(bare, ['passwd', '--password-stdin'], { stdin: `${password}\nfrank-new-password\n`, env: { OPSCTL_SERVER: m.url, OPSCTL_TOKEN: token } });
  assert.is(r.code, 0, r.stderr);
  assert.ok(await canLogin('frank', 'frank-new-password'));
});

test('users rm: --yes required without a terminal; asks on one; the user\'s session ends', async () => {
  const { password } = JSON.parse((await run(['users', 'create', 'gone', '--role', 'viewer', '--json'])).stdout) as UserCreated;
  const gone = await loggedIn('gone', password!);
  const before = m.requestCount();
  const noYes = await run(['users', 'rm', 'gone']);
  assert.is(noYes.code, 2);
  assert.is(noYes.stderr, 'Error: users rm needs --yes when there is no terminal to confirm on\n');
  assert.is(m.requestCount(), before, 'nothing sent');

  const declined = await run(['users', 'rm', 'gone'], { tty: true, stdin: 'n\n' });
  assert.is(declined.code, 1, declined.stdout);
  assert.match(declined.stdout, /Delete user gone\? Their sessions and API tokens end\. \[y\/N\]: .*\n?Error: cancelled: user gone was not deleted\n$/s);
  assert.is((await run(['users', 'show', 'gone'])).code, 0);

  const r = await run(['users', 'rm', 'gone', '--yes']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, 'Deleted user gone.\n');
  assert.is((await run(['users', 'show', 'gone'])).code, 1);
  assert.is(await status(savedConfig(gone).token!), 401);
});

test('logout ends the saved session, forgets the token and keeps server and user', async () => {
  const h = await loggedIn('alice', (await resetPassword('alice')));
  const token = savedConfig(h).token!;
  const r = await opsctl(h, ['logout']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '');
  assert.is(r.stderr, `Logged out of ${m.url}; removed the token from ${h.configFile}.\n`);
  assert.equal(savedConfig(h), { server: m.url, user: 'alice' });
  assert.is(await status(token), 401, 'the session ended on the manager');
  const again = await opsctl(h, ['logout']);
  assert.is(again.code, 0);
  assert.is(again.stderr, `Not logged in: no token saved in ${h.configFile}.\n`);
  const after = await opsctl(h, ['nodes', 'ls']);
  assert.is(after.code, 1);
  assert.match(after.stderr, /^Error: not logged in to /);
});

test('logout with a token the manager no longer accepts: forgotten, exit 0', async () => {
  const h = await loggedIn('alice', await resetPassword('alice'));
  await resetPassword('alice'); // ends every session of alice
  const r = await opsctl(h, ['logout']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, `The manager at ${m.url} no longer accepted the saved token (expired or revoked); removed it from ${h.configFile}.\n`);
  assert.equal(savedConfig(h), { server: m.url, user: 'alice' });
});

test('logout with the manager unreachable: forgotten locally, exit 1 saying the session stays', async () => {
  const h = new ConfigHome();
  homes.push(h);
  mkdirSync(dirname(h.configFile), { recursive: true, mode: 0o700 });
  const closed = `http://127.0.0.1:${await freePort()}`;
  writeFileSync(h.configFile, `server: ${closed}\ntoken: abc.def.ghi\nuser: alice\n`, { mode: 0o600 });
  const r = await opsctl(h, ['logout'], { env: { OPSCTL_TOKEN: 'from-the-environment' } });
  assert.is(r.code, 1);
  assert.is(r.stderr, '$OPSCTL_TOKEN is set: logout does not touch the environment variable; unset it to stop using that token.\n' +
    `Error: cannot reach the manager at ${closed} (connection refused): removed the token from ${h.configFile}, but the session stays valid on the manager until it expires\n`);
  assert.equal(savedConfig(h), { server: closed, user: 'alice' });
});

/** Resets a user's password as the admin and returns the new one. */
async function resetPassword(username: string): Promise<string> {
  const r = await run(['passwd', username, '--json']);
  assert.is(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { password: string }).password;
}

test.run();
