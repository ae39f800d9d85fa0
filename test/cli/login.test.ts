// opsctl login against the real manager: the saved config (mode 0600 in a 0700 dir), failures
// leave it untouched.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse } from 'yaml';
import { startManager, type TestManager } from './manager.js';
import { ConfigHome, ensureBuilt, opsctl } from './run-opsctl.js';

let m: TestManager;
let ADMIN: { username: string; password: string };
const homes: ConfigHome[] = [];
function freshHome(): ConfigHome {
  const h = new ConfigHome();
  homes.push(h);
  return h;
}

test.before(async () => {
  ensureBuilt();
  m = await startManager();
  ADMIN = m.admin;
});
test.after(async () => {
  await m?.stop();
  for (const h of homes) h.remove();
});

test('login stores server, token and user with mode 0600 in a 0700 directory', async () => {
  const home = freshHome();
  const r = await opsctl(home, ['login', '--server', `${m.url}/`, '--username', ADMIN.username, '--password', ADMIN.password]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '');
  const until = new RegExp(`^Logged in to ${m.url} as admin \\(admin\\); token valid until (\\S+), saved in ${home.configFile}\\.\\n$`).exec(r.stderr);
  assert.ok(until, r.stderr);
  assert.match(until![1], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.ok(Date.parse(until![1]) > Date.now(), 'valid until a time ahead');
  assert.is(statSync(home.configFile).mode & 0o777, 0o600);
  assert.is(statSync(dirname(home.configFile)).mode & 0o777, 0o700);
  const text = readFileSync(home.configFile, 'utf8');
  const saved = parse(text) as { server: string; token: string; user: string };
  assert.equal(Object.keys(saved).sort(), ['server', 'token', 'user']);
  assert.is(saved.server, m.url);
  assert.is(saved.user, 'admin');
  assert.is((await fetch(`${m.url}/api/v1/nodes`, { headers: { authorization: `Bearer ${saved.token}` } })).status, 200, 'the saved token is one the manager issued');
  assert.not.ok(text.includes(ADMIN.password), 'the password is never stored');

  // The saved login is used by the next command.
  const before = m.requestCount();
  const ls = await opsctl(home, ['nodes', 'ls', '--json']);
  assert.is(ls.code, 0, ls.stderr);
  assert.is(ls.stdout, '[]\n');
  assert.is(m.requestCount(), before + 1);
  const anonymous = await opsctl(freshHome(), ['nodes', 'ls'], { env: { OPSCTL_SERVER: m.url } });
  assert.is(anonymous.code, 1, 'without the saved login the same command is refused');
});

test('a wrong password exits 1 with the server message and leaves the config untouched', async () => {
  const home = freshHome();
  mkdirSync(dirname(home.configFile), { recursive: true, mode: 0o700 });
  const before = 'server: http://old.example:8440\ntoken: old-token\nuser: bob\n';
  writeFileSync(home.configFile, before, { mode: 0o600 });
  const mtime = statSync(home.configFile).mtimeMs;
  const r = await opsctl(home, ['login', '--server', m.url, '--username', ADMIN.username, '--password', 'wrong']);
  assert.is(r.code, 1);
  assert.is(r.stderr, 'Error: invalid username or password (code 1002)\n');
  assert.is(r.stdout, '');
  assert.is(readFileSync(home.configFile, 'utf8'), before);
  assert.is(statSync(home.configFile).mtimeMs, mtime);
});

test('a wrong password with no config file creates none', async () => {
  const home = freshHome();
  const r = await opsctl(home, ['login', '--server', m.url, '--username', 'nobody', '--password', 'x']);
  assert.is(r.code, 1);
  let exists = true;
  try { statSync(home.configFile); } catch { exists = false; }
  assert.not.ok(exists);
});

test('--password-stdin reads the password from standard input', async () => {
  const home = freshHome();
  const r = await opsctl(home, ['login', '--server', m.url, '--username', ADMIN.username, '--password-stdin'], { stdin: `${ADMIN.password}\n` });
  assert.is(r.code, 0, r.stderr);
  const { token } = parse(readFileSync(home.configFile, 'utf8')) as { token: string };
  assert.is((await fetch(`${m.url}/api/v1/nodes`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
});

test('$OPSCTL_SERVER is used when --server is not given', async () => {
  const home = freshHome();
  const r = await opsctl(home, ['login', '--username', ADMIN.username, '--password', ADMIN.password], { env: { OPSCTL_SERVER: m.url } });
  assert.is(r.code, 0, r.stderr);
  assert.is((parse(readFileSync(home.configFile, 'utf8')) as { server: string }).server, m.url);
});

test('missing username or password without a terminal is a usage error', async () => {
  const home = freshHome();
  const noUser = await opsctl(home, ['login', '--server', m.url, '--password', 'x']);
  assert.is(noUser.code, 2);
  assert.is(noUser.stderr, 'Error: missing --username (there is no terminal to ask on)\n');
  const noPassword = await opsctl(home, ['login', '--server', m.url, '--username', 'admin']);
  assert.is(noPassword.code, 2);
  assert.is(noPassword.stderr, 'Error: missing --password or --password-stdin (there is no terminal to ask on)\n');
  const emptyStdin = await opsctl(home, ['login', '--server', m.url, '--username', 'admin', '--password-stdin'], { stdin: '' });
  assert.is(emptyStdin.code, 2);
  assert.is(emptyStdin.stderr, 'Error: no password on standard input\n');
});

test('a malformed config file is reported with its path, exit 1', async () => {
  const home = freshHome();
  mkdirSync(dirname(home.configFile), { recursive: true });
  writeFileSync(home.configFile, 'server: [unclosed\n');
  const r = await opsctl(home, ['nodes', 'ls']);
  assert.is(r.code, 1);
  assert.match(r.stderr, new RegExp(`^Error: parsing ${home.configFile}: `));
  assert.is(r.stderr.split('\n').length, 2);
});

test.run();
