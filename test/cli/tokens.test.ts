// API tokens and OAuth2 clients against the real manager: created tokens work as OPSCTL_TOKEN
// (within their role and scope) until revoked; client credentials trade for access tokens at
// /oauth/token until the client is deleted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ApiTokenCreated, ApiTokenView } from '../../proto/rest/api-tokens.js';
import type { Whoami } from '../../proto/rest/auth.js';
import type { OAuthClientCreated, OAuthClientView } from '../../proto/rest/oauth-clients.js';
import { seedNodes } from './fixtures.js';
import { assertGolden } from './golden.js';
import { startManager, type TestManager } from './manager.js';
import { ConfigHome, ensureBuilt, opsctl, type RunOptions } from './run-opsctl.js';

const home = new ConfigHome();
let m: TestManager;
const run = (args: string[], opts: RunOptions = {}) => opsctl(home, args, { ...opts, env: { OPSCTL_SERVER: m.url, OPSCTL_TOKEN: m.token, ...opts.env } });
const as = (token: string, args: string[], opts: RunOptions = {}) => run(args, { ...opts, env: { OPSCTL_TOKEN: token, ...opts.env } });
const TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const nodeNames = (tsv: string) => tsv.trimEnd().split('\n').filter(Boolean).map((l) => l.split('\t')[0]);

async function clientToken(id: string, secret: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${m.url}/api/v1/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test.before(async () => {
  ensureBuilt();
  m = await startManager({ 'hostlink.offlineAfterSeconds': 10 * 365 * 86400 });
  await seedNodes(m);
});
test.after(async () => {
  await m?.stop();
  home.remove();
});

let ciToken = '';

test('tokens create piped prints only the token; it works as OPSCTL_TOKEN', async () => {
  const before = Date.now();
  const r = await run(['tokens', 'create', '--name', 'ci', '--role', 'operator', '--ttl', '90d']);
  assert.is(r.code, 0, r.stderr);
  ciToken = r.stdout.trimEnd();
  assert.match(r.stdout, /^opst_[A-Za-z0-9_-]{20,}\n$/);
  assert.is(r.stderr, 'The token is shown only now (the manager keeps only its hash). Use it as OPSCTL_TOKEN=<token>, e.g. OPSCTL_TOKEN="$TOKEN" opsctl nodes ls.\n');

  const ls = await as(ciToken, ['nodes', 'ls']);
  assert.is(ls.code, 0, ls.stderr);
  assert.equal(nodeNames(ls.stdout), ['db-1', 'web-1', 'web-2']);
  const me = JSON.parse((await as(ciToken, ['whoami', '--json'])).stdout) as Whoami;
  assert.equal([me.kind, me.name, me.owner, me.role, me.scopeGroups], ['token', 'ci', 'admin', 'operator', []]);
  const expires = Date.parse(me.expiresAt!);
  assert.ok(expires >= before + 90 * 86400_000 - 5000 && expires <= Date.now() + 90 * 86400_000 + 5000, 'expires in 90 days');

  // The token acts with its role, not its owner's.
  const denied = await as(ciToken, ['users', 'create', 'x', '--role', 'viewer']);
  assert.is(denied.code, 1);
  assert.is(denied.stderr, 'Error: permission users:write required (your role is operator) (code 1003)\n');
});

test('a token limited to a group sees only that group\'s nodes', async () => {
  const r = await run(['tokens', 'create', '--name', 'web-only', '--role', 'viewer', '--scope-group', 'web']);
  assert.is(r.code, 0, r.stderr);
  const ls = await as(r.stdout.trimEnd(), ['nodes', 'ls']);
  assert.is(ls.code, 0, ls.stderr);
  assert.equal(nodeNames(ls.stdout), ['web-1']);
});

test('tokens create --json gives the whole object; on a terminal the token and what it is', async () => {
  const json = await run(['tokens', 'create', '--name', 'dashboard', '--role', 'viewer', '--json']);
  assert.is(json.code, 0, json.stderr);
  const created = JSON.parse(json.stdout) as ApiTokenCreated;
  assert.equal(Object.keys(created).sort(), ['token', 'tokenInfo']);
  assert.equal([created.tokenInfo.name, created.tokenInfo.owner, created.tokenInfo.role, created.tokenInfo.expiresAt], ['dashboard', 'admin', 'viewer', null]);
  const tty = await run(['tokens', 'create', '--name', 'tty', '--role', 'viewer'], { tty: true });
  assert.is(tty.code, 0, tty.stdout);
  assert.match(tty.stdout, /^Token:\s+opst_\S+\nName:\s+tty\nID:\s+\S+\nRole:\s+viewer\nScope:\s+all nodes\nExpires:\s+never\nThe token is shown only now/);
});

test('tokens create: bad --ttl and a missing --role are usage errors; a stronger role is refused', async () => {
  const before = m.requestCount();
  const short = await run(['tokens', 'create', '--name', 'x', '--role', 'viewer', '--ttl', '30s']);
  assert.is(short.code, 2);
  assert.is(short.stderr, 'Error: --ttl 30s is out of range: use 1m to 3660d\n');
  const bad = await run(['tokens', 'create', '--name', 'x', '--role', 'viewer', '--ttl', 'soon']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /^Error: --ttl: invalid duration "soon"/);
  const noRole = await run(['tokens', 'create', '--name', 'x']);
  assert.is(noRole.code, 2);
  assert.is(m.requestCount(), before, 'nothing sent');
  const stronger = await as(ciToken, ['tokens', 'create', '--name', 'up', '--role', 'admin']);
  assert.is(stronger.code, 1);
  assert.match(stronger.stderr, /^Error: cannot grant permissions you do not hold: .* \(code 1003\)\n$/);
});

test('tokens ls: yours piped (golden) and as JSON; --all needs users:write', async () => {
  const r = await run(['tokens']);
  assert.is(r.code, 0, r.stderr);
  assertGolden('tokens-ls.tsv', r.stdout.replace(UUID, '<id>').replace(TIME, '<time>'));
  assert.equal(JSON.parse((await run(['tokens', 'ls', '--json'])).stdout), await m.apiData<ApiTokenView[]>('/tokens'));
  const all = await run(['tokens', 'ls', '--all']);
  assert.is(all.code, 0, all.stderr);
  assert.is(all.stdout, r.stdout, 'only the admin has tokens');
  const operator = await as(ciToken, ['tokens', 'ls', '--all']);
  assert.is(operator.code, 1);
  assert.is(operator.stderr, 'Error: permission users:write required to list everyone\'s tokens (code 1003)\n');
  const tty = await run(['tokens'], { tty: true });
  assert.match(tty.stdout, /^NAME\s+ID\s+OWNER\s+ROLE\s+SCOPE\s+CREATED\s+LAST USED\s+EXPIRES\s+REVOKED\n/);
  assert.match(tty.stdout, /\nci\s+\S+\s+admin\s+operator\s+all nodes\s+\d+s ago\s+\d+s ago\s+in 8\dd\s+-\n/);
});

test('tokens revoke: the token is refused from then on, and listed as revoked', async () => {
  const { id } = (await m.apiData<ApiTokenView[]>('/tokens')).find((t) => t.name === 'ci')!;
  const r = await run(['tokens', 'revoke', id]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, `Revoked token ${id}.\n`);
  const refused = await as(ciToken, ['nodes', 'ls']);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /^Error: .* \(code 1002\); run 'opsctl login --server .*' to sign in again\n$/);
  const row = (await run(['tokens'])).stdout.split('\n').find((l) => l.startsWith('ci\t'))!;
  assert.match(row.split('\t')[8], /^\d{4}-\d\d-\d\dT/);
  const missing = await run(['tokens', 'revoke', 'no-such-id']);
  assert.is(missing.code, 1);
  assert.is(missing.stderr, 'Error: API token "no-such-id" not found (code 1004)\n');
});

test('clients create: id and secret once; they trade for an access token that works with opsctl', async () => {
  const r = await run(['clients', 'create', 'grafana', '--role', 'viewer', '--scope-group', 'db']);
  assert.is(r.code, 0, r.stderr);
  const id = /^client_id\t(\S+)$/m.exec(r.stdout)?.[1] ?? '';
  const secret = /^client_secret\t(\S+)$/m.exec(r.stdout)?.[1] ?? '';
  assert.ok(id && secret, r.stdout);
  assert.is(r.stdout, `client_id\t${id}\nclient_secret\t${secret}\nname\tgrafana\nrole\tviewer\nscope_groups\tdb\n`);
  assert.is(r.stderr, 'The secret is shown only now (the manager keeps only its hash). Get an access token with:\n' +
    `  curl -u ${id}:SECRET -d grant_type=client_credentials ${m.url}/api/v1/oauth/token\n`);

  const granted = await clientToken(id, secret);
  assert.is(granted.status, 200, JSON.stringify(granted.body));
  const access = String(granted.body.access_token);
  const me = JSON.parse((await as(access, ['whoami', '--json'])).stdout) as Whoami;
  assert.equal([me.kind, me.name, me.role, me.scopeGroups], ['client', 'grafana', 'viewer', ['db']]);
  const ls = await as(access, ['nodes', 'ls']);
  assert.is(ls.code, 0, ls.stderr);
  assert.equal(nodeNames(ls.stdout), ['db-1']);
  const json = JSON.parse((await run(['clients', 'create', 'ci-bot', '--role', 'operator', '--json'])).stdout) as OAuthClientCreated;
  assert.equal(Object.keys(json).sort(), ['client', 'clientSecret']);
});

test('clients ls piped (golden) and as JSON; clients rm needs --yes, then the credentials are refused', async () => {
  const r = await run(['clients']);
  assert.is(r.code, 0, r.stderr);
  assertGolden('clients-ls.tsv', r.stdout.replace(UUID, '<id>').replace(TIME, '<time>'));
  const clients = await m.apiData<OAuthClientView[]>('/oauth/clients');
  assert.equal(JSON.parse((await run(['clients', 'ls', '--json'])).stdout), clients);

  const { clientId } = clients.find((c) => c.name === 'ci-bot')!;
  const created = await run(['clients', 'create', 'doomed', '--role', 'viewer', '--json']);
  const doomed = JSON.parse(created.stdout) as OAuthClientCreated;
  const noYes = await run(['clients', 'rm', doomed.client.clientId]);
  assert.is(noYes.code, 2);
  assert.is(noYes.stderr, 'Error: clients rm needs --yes when there is no terminal to confirm on\n');
  const rm = await run(['clients', 'rm', doomed.client.clientId, '--yes']);
  assert.is(rm.code, 0, rm.stderr);
  assert.is(rm.stderr, `Deleted OAuth client ${doomed.client.clientId}.\n`);
  assert.is((await clientToken(doomed.client.clientId, doomed.clientSecret)).status, 401);
  assert.ok((await m.apiData<OAuthClientView[]>('/oauth/clients')).some((c) => c.clientId === clientId), 'the others stay');
  const missing = await run(['clients', 'rm', 'nope', '--yes']);
  assert.is(missing.code, 1);
  assert.is(missing.stderr, 'Error: client "nope" not found (code 1004)\n');
});

test.run();
