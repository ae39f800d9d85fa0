// nodes ls / nodes show / nodes token create against the real manager: terminal table vs
// tab-separated vs --json vs yaml, on nodes made real through the manager's host-link backend.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { NodeDetail, NodeSummary } from '../../proto/rest/nodes.js';
import { seedNodes, withStableIds, type SeededNodes } from './fixtures.js';
import { assertGolden } from './golden.js';
import { startManager, type TestManager } from './manager.js';
import { ConfigHome, ensureBuilt, opsctl, type RunOptions } from './run-opsctl.js';

const home = new ConfigHome();
let m: TestManager;
let seeded: SeededNodes;
const run = (args: string[], opts: RunOptions = {}) => opsctl(home, args, { ...opts, env: { OPSCTL_SERVER: m.url, OPSCTL_TOKEN: m.token, ...opts.env } });
const TOKEN_LINE = /^token\t(\S+)$/m;

test.before(async () => {
  ensureBuilt();
  // The pinned last-seen times are long past: keep the offline sweep from acting on them.
  m = await startManager({ 'hostlink.offlineAfterSeconds': 10 * 365 * 86400 });
  seeded = await seedNodes(m);
});
test.after(async () => {
  await m?.stop();
  home.remove();
});

test('nodes ls piped: tab-separated rows, RFC 3339 times, no header', async () => {
  const r = await run(['nodes', 'ls']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  assertGolden('nodes-ls.tsv', r.stdout);
  const plain = await run(['nodes']);
  assert.is(plain.stdout, r.stdout, '`nodes` and `nodes ls` are the same command');
});

test('an argument left off is not read from standard input: a pipe stays the caller\'s', async () => {
  const all = await run(['nodes', 'ls']);
  const piped = await run(['nodes', 'ls'], { stdin: 'no-such-node\n' });
  assert.is(piped.code, 0, piped.stderr);
  assert.is(piped.stdout, all.stdout, 'every node listed, as with no input');
});

test('nodes ls --json: the API objects, and -o json is the same', async () => {
  const r = await run(['nodes', 'ls', '--json']);
  assert.is(r.code, 0, r.stderr);
  assertGolden('nodes-ls.json', withStableIds(r.stdout, seeded.ids));
  assert.equal(JSON.parse(r.stdout), await m.apiData<NodeSummary[]>('/nodes'));
  const o = await run(['nodes', 'ls', '-o', 'json']);
  assert.is(o.stdout, r.stdout);
});

test('nodes ls -o yaml', async () => {
  const r = await run(['nodes', 'ls', '--output', 'yaml']);
  assert.is(r.code, 0, r.stderr);
  assertGolden('nodes-ls.yaml', withStableIds(r.stdout, seeded.ids));
});

test('nodes ls on a terminal: aligned table with a header and relative times', async () => {
  const now = Date.now();
  // Minutes, not seconds: "5m ago" holds for 40 s of a slow start on a loaded machine ("42s" did not).
  await seeded.pinLastSeen(new Date(now - 320_000), new Date(now - (3 * 3600 + 300) * 1000));
  try {
    const r = await run(['nodes', 'ls'], { tty: true });
    assert.is(r.code, 0, r.stdout);
    assertGolden('nodes-ls.tty.txt', r.stdout);
  } finally {
    await seeded.pinLastSeen(new Date('2025-01-02T03:04:05.000Z'), new Date('2025-01-02T03:04:50.123Z'));
  }
});

test('nodes ls with no nodes: empty output piped, a hint on a terminal', async () => {
  const empty = await startManager();
  try {
    const env = { OPSCTL_SERVER: empty.url, OPSCTL_TOKEN: empty.token };
    const piped = await run(['nodes', 'ls'], { env });
    assert.is(piped.code, 0, piped.stderr);
    assert.is(piped.stdout, '');
    assert.is((await run(['nodes', 'ls', '--json'], { env })).stdout, '[]\n');
    const tty = await run(['nodes', 'ls'], { tty: true, env });
    assert.match(tty.stdout, /No nodes enrolled yet: create a token with `opsctl nodes token create`\.\nNAME\s+STATUS\s+OS\s+ADDRESS\s+AGENT\s+HOSTD\s+LAST SEEN\n$/);
  } finally {
    await empty.stop();
  }
});

test('nodes show piped: key<TAB>value lines with exact numbers', async () => {
  const r = await run(['nodes', 'show', 'web-1']);
  assert.is(r.code, 0, r.stderr);
  assertGolden('nodes-show.tsv', r.stdout);
});

test('nodes show on a terminal: facts, human sizes, labels, metrics', async () => {
  const r = await run(['nodes', 'show', 'web-1'], { tty: true });
  assert.is(r.code, 0, r.stdout);
  for (const line of [
    /^Hostname:\s+web-1\.example\.com$/m, /^OS:\s+Ubuntu 24\.04 LTS \(linux\)$/m, /^Kernel:\s+6\.8\.0-45-generic$/m,
    /^Arch:\s+x64$/m, /^CPUs:\s+4 × AMD EPYC 7B13$/m, /^Memory:\s+7\.7 GiB$/m, /^IPs:\s+10\.0\.0\.11, fd00::11$/m,
    /^Labels:\s+env=prod,role=web$/m, /^Agent:\s+0\.1\.0$/m, /^Hostd:\s+0\.1\.0$/m, /^Status:\s+online$/m,
    /^Last seen:\s+2025-01-02T03:04:50\.123Z \(\d+d ago\)$/m, /^CPU:\s+12\.3 %$/m, /^Memory used:\s+2\.0 GiB of 7\.7 GiB$/m,
    /^Disk \/:\s+10\.0 GiB of 50\.0 GiB$/m,
  ]) assert.match(r.stdout, line);
});

test('nodes show --json is the API object', async () => {
  const r = await run(['nodes', 'show', 'web-1', '--json']);
  assert.is(r.code, 0, r.stderr);
  const detail = JSON.parse(r.stdout) as NodeDetail;
  assert.equal(detail, await m.apiData<NodeDetail>('/nodes/web-1'));
  assert.is(detail.id, seeded.ids['web-1']);
  assert.is(detail.certificateExpiresAt, '2026-01-02T03:04:05.000Z');
});

test('nodes token create: uses and ttl reach the manager; prints the token and the hostd command', async () => {
  const before = Date.now();
  const r = await run(['nodes', 'token', 'create', '--uses', '3', '--ttl', '2h']);
  assert.is(r.code, 0, r.stderr);
  const token = TOKEN_LINE.exec(r.stdout)?.[1] ?? '';
  assert.match(token, /^[A-Za-z0-9_-]{16,}$/);
  const expires = Date.parse(/^expires\t(\S+)$/m.exec(r.stdout)?.[1] ?? '');
  assert.ok(expires >= before + 7200_000 - 1000 && expires <= Date.now() + 7200_000 + 1000, 'expires in two hours');
  const { caHash } = await fetch(`${m.url}/api/v1/enrollment-tokens`, {
    method: 'POST', headers: { authorization: `Bearer ${m.token}`, 'content-type': 'application/json' }, body: '{}',
  }).then(async (res) => ((await res.json()) as { data: { caHash: string } }).data);
  const normalised = r.stdout.split(token).join('<token>').replace(/^expires\t\S+$/m, 'expires\t<in 2h>')
    .split(m.manager.grpcAddress).join('<grpc address>').split(caHash).join('<ca hash>');
  assertGolden('token-create.tsv', normalised);

  // The token really has three uses: three hosts enroll with it, the fourth is refused.
  const hostLink = m.manager.services.hostLink;
  for (const n of ['tok-1', 'tok-2', 'tok-3']) await hostLink.redeemEnrollmentToken({ token, nodeName: n, address: '10.0.1.1', keyFingerprint: '0'.repeat(64) });
  let refused = '';
  await hostLink.redeemEnrollmentToken({ token, nodeName: 'tok-4', address: '10.0.1.1', keyFingerprint: '0'.repeat(64) }).catch((err: Error) => { refused = err.message; });
  assert.is(refused, 'enrollment token already used');
  for (const n of ['tok-1', 'tok-2', 'tok-3']) await fetch(`${m.url}/api/v1/nodes/${n}`, { method: 'DELETE', headers: { authorization: `Bearer ${m.token}` } });

  const tty = await run(['nodes', 'token', 'create'], { tty: true });
  const ttyToken = /OPS_ENROLL_TOKEN=(\S+) /.exec(tty.stdout)?.[1] ?? '';
  assert.match(tty.stdout, new RegExp(`\\n  OPS_ENROLL_TOKEN=${ttyToken} hostd --manager ${m.manager.grpcAddress.replace(/\./g, '\\.')} --ca-hash ${caHash}\\n$`));
  const json = await run(['nodes', 'token', 'create', '--json']);
  const created = JSON.parse(json.stdout) as { uses: number; expiresAt: string };
  assert.equal(Object.keys(created).sort(), ['caHash', 'expiresAt', 'grpcAddress', 'id', 'token', 'uses']);
  const ttl = Date.parse(created.expiresAt) - Date.now();
  assert.is(created.uses, 1, 'default: one use');
  assert.ok(ttl > 3590_000 && ttl <= 3600_000, `default: one hour (${ttl} ms)`);
  // Two one-use tokens from the terminal run: the first enrolls, the second try is refused.
  await hostLink.redeemEnrollmentToken({ token: ttyToken, nodeName: 'tty-1', address: '10.0.1.2', keyFingerprint: '0'.repeat(64) });
  assert.is(await hostLink.redeemEnrollmentToken({ token: ttyToken, nodeName: 'tty-2', address: '10.0.1.2', keyFingerprint: '0'.repeat(64) }).then(() => '', (err: Error) => err.message), 'enrollment token already used');
});

test('nodes rm: asks without --yes off a terminal, deletes several, and a deleted node is gone', async () => {
  const hostLink = m.manager.services.hostLink;
  const { token } = await fetch(`${m.url}/api/v1/enrollment-tokens`, {
    method: 'POST', headers: { authorization: `Bearer ${m.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ uses: 2 }),
  }).then(async (res) => ((await res.json()) as { data: { token: string } }).data);
  for (const n of ['rm-1', 'rm-2']) await hostLink.redeemEnrollmentToken({ token, nodeName: n, address: '10.0.2.1', keyFingerprint: '0'.repeat(64) });
  const refused = await run(['nodes', 'rm', 'rm-1']);
  assert.is(refused.code, 2, refused.stderr);
  const r = await run(['nodes', 'rm', 'rm-1', 'rm-2', '--yes']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, 'Deleted node rm-1; its certificate no longer connects.\nDeleted node rm-2; its certificate no longer connects.\n');
  const names = (await m.apiData<NodeSummary[]>('/nodes')).map((n) => n.name);
  assert.not.ok(names.includes('rm-1') || names.includes('rm-2'));
  const missing = await run(['nodes', 'rm', 'rm-1', '--yes']);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /node "rm-1" not found/);
});

test('nodes label: sets and removes kubectl style; bad keys and values are refused here and by the manager', async () => {
  const { token } = await fetch(`${m.url}/api/v1/enrollment-tokens`, {
    method: 'POST', headers: { authorization: `Bearer ${m.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ uses: 2 }),
  }).then(async (res) => ((await res.json()) as { data: { token: string } }).data);
  for (const n of ['lab-1', 'lab-2']) await m.manager.services.hostLink.redeemEnrollmentToken({ token, nodeName: n, address: '10.0.3.1', keyFingerprint: '0'.repeat(64) });
  const set = await run(['nodes', 'label', 'lab-1', 'lab-2', 'env=prod', 'tier=web', 'example.com/team=ops']);
  assert.is(set.code, 0, set.stderr);
  assert.is(set.stderr, 'Labelled lab-1: env=prod, tier=web, example.com/team=ops.\nLabelled lab-2: env=prod, tier=web, example.com/team=ops.\n');
  const removed = await run(['nodes', 'label', 'lab-2', 'tier-', 'env=staging']);
  assert.is(removed.code, 0, removed.stderr);
  const labels = Object.fromEntries((await m.apiData<NodeSummary[]>('/nodes')).filter((n) => n.name.startsWith('lab-')).map((n) => [n.name, n.labels]));
  assert.equal(labels, { 'lab-1': { env: 'prod', tier: 'web', 'example.com/team': 'ops' }, 'lab-2': { env: 'staging', 'example.com/team': 'ops' } });

  for (const [args, message] of [
    [['lab-1', 'bad_=x'], /label key "bad_": the name must be 1–63 characters/],
    [['lab-1', `k=${'v'.repeat(64)}`], /the value "v+" must be at most 63 characters/],
    [['lab-1', 'Example.COM/x=1'], /the prefix must be a lower-case DNS subdomain/],
    [['lab-1'], /no label change/],
    [['env=prod'], /name at least one node/],
  ] as const) {
    const r = await run(['nodes', 'label', ...args]);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  // The manager checks the same rules for any client.
  const res = await fetch(`${m.url}/api/v1/nodes/lab-1/labels`, {
    method: 'PATCH', headers: { authorization: `Bearer ${m.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ set: { 'a b': 'x' } }),
  });
  assert.is(res.status, 400);
  assert.match(((await res.json()) as { message: string }).message, /label key "a b"/);
  const missing = await run(['nodes', 'label', 'no-such-node', 'a=b']);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /node "no-such-node" not found/);
});

test('a held request: nodes ls marks it on a terminal, nodes show prints the key; approve asks first, deny drops it', async () => {
  const { token } = await fetch(`${m.url}/api/v1/enrollment-tokens`, {
    method: 'POST', headers: { authorization: `Bearer ${m.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ uses: 2 }),
  }).then(async (res) => ((await res.json()) as { data: { token: string } }).data);
  const hostLink = m.manager.services.hostLink;
  await hostLink.redeemEnrollmentToken({ token, nodeName: 'held-cli', address: '10.0.4.1', keyFingerprint: '0'.repeat(64) });
  const key = 'ab'.repeat(32);
  await hostLink.redeemEnrollmentToken({ token, nodeName: 'held-cli', address: '10.0.4.2', keyFingerprint: key });

  const tty = await run(['nodes', 'ls'], { tty: true });
  assert.match(tty.stdout, /held-cli\s+offline, key pending approval/);
  const piped = await run(['nodes', 'ls']);
  assert.match(piped.stdout, /^held-cli\toffline\t/m, 'the piped status cell stays the status alone');
  const show = await run(['nodes', 'show', 'held-cli']);
  assert.match(show.stdout, new RegExp(`^pending_key_fingerprint\t${key}$`, 'm'));
  assert.match(show.stdout, /^pending_address\t10\.0\.4\.2$/m);
  assert.match(show.stdout, /^pending_since\t\d{4}-\d\d-\d\dT/m);
  assert.match(show.stdout, /^pending_state\twaiting$/m);

  const unasked = await run(['nodes', 'approve', 'held-cli']);
  assert.is(unasked.code, 2, unasked.stderr);
  assert.match(unasked.stderr, /nodes approve needs --yes/);
  const denied = await run(['nodes', 'deny', 'held-cli']);
  assert.is(denied.code, 0, denied.stderr);
  assert.is(denied.stderr, 'Denied the pending enrollment request of node held-cli; its current certificate stays.\n');
  assert.not.match((await run(['nodes', 'show', 'held-cli'])).stdout, /pending_key_fingerprint/);
  const nothing = await run(['nodes', 'approve', 'held-cli', '--yes']);
  assert.is(nothing.code, 1);
  assert.match(nothing.stderr, /node held-cli has no pending enrollment request to approve/);
  const missing = await run(['nodes', 'approve', 'no-such-node', '--yes']);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /node "no-such-node" not found/);
});

test.run();
