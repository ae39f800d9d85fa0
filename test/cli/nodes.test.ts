// nodes ls / nodes show / nodes token create: terminal table vs tab-separated vs --json vs yaml.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startFakeManager, TOKEN, type FakeManager } from './fake-manager.js';
import { NODES, WEB_1, nodesSeenRecently } from './fixtures.js';
import { assertGolden } from './golden.js';
import { ConfigHome, ensureBuilt, opsctl, type RunOptions } from './run-opsctl.js';

const home = new ConfigHome();
let fake: FakeManager;
const run = (args: string[], opts: RunOptions = {}) => opsctl(home, args, { ...opts, env: { OPSCTL_SERVER: fake.url, OPSCTL_TOKEN: TOKEN, ...opts.env } });

test.before(async () => {
  ensureBuilt();
  fake = await startFakeManager();
  fake.nodes = NODES;
  fake.details = { 'web-1': WEB_1 };
});
test.after(async () => {
  await fake.close();
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

test('nodes ls --json: the API objects, and -o json is the same', async () => {
  const r = await run(['nodes', 'ls', '--json']);
  assert.is(r.code, 0, r.stderr);
  assertGolden('nodes-ls.json', r.stdout);
  assert.equal(JSON.parse(r.stdout), NODES);
  const o = await run(['nodes', 'ls', '-o', 'json']);
  assert.is(o.stdout, r.stdout);
});

test('nodes ls -o yaml', async () => {
  const r = await run(['nodes', 'ls', '--output', 'yaml']);
  assert.is(r.code, 0, r.stderr);
  assertGolden('nodes-ls.yaml', r.stdout);
});

test('nodes ls on a terminal: aligned table with a header and relative times', async () => {
  fake.nodesAtRequest = () => nodesSeenRecently();
  try {
    const r = await run(['nodes', 'ls'], { tty: true });
    assert.is(r.code, 0, r.stdout);
    assertGolden('nodes-ls.tty.txt', r.stdout);
  } finally {
    fake.nodesAtRequest = undefined;
  }
});

test('nodes ls with no nodes: empty output piped, a hint on a terminal', async () => {
  fake.nodes = [];
  try {
    const piped = await run(['nodes', 'ls']);
    assert.is(piped.code, 0);
    assert.is(piped.stdout, '');
    assert.is((await run(['nodes', 'ls', '--json'])).stdout, '[]\n');
    const tty = await run(['nodes', 'ls'], { tty: true });
    assert.match(tty.stdout, /No nodes enrolled yet: create a token with `opsctl nodes token create`\.\nNAME\s+STATUS\s+OS\s+ADDRESS\s+AGENT\s+HOSTD\s+LAST SEEN\n$/);
  } finally {
    fake.nodes = NODES;
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
  assert.equal(JSON.parse(r.stdout), WEB_1);
});

test('nodes token create: sends uses and ttl, prints the token and the hostd command', async () => {
  const r = await run(['nodes', 'token', 'create', '--uses', '3', '--ttl', '2h']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(fake.requests.at(-1)?.body, { uses: 3, ttlSeconds: 7200 });
  assertGolden('token-create.tsv', r.stdout);
  const tty = await run(['nodes', 'token', 'create'], { tty: true });
  assert.match(tty.stdout, /\n  hostd --manager manager\.example:8441 --ca-hash (ab){32} --token tok_abcDEF123-_\n$/);
  assert.equal(fake.requests.at(-1)?.body, { uses: 1, ttlSeconds: 3600 }, 'defaults: one use, one hour');
  const json = await run(['nodes', 'token', 'create', '--json']);
  assert.equal(Object.keys(JSON.parse(json.stdout)).sort(), ['caHash', 'expiresAt', 'grpcAddress', 'id', 'token', 'uses']);
});

test.run();
