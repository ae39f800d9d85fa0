// How opsctl reports a manager that is down, API errors, odd answers and a missing login.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:http';
import { freePort } from '../helpers/ports.js';
import { startFakeManager, TOKEN, type FakeManager } from './fake-manager.js';
import { ConfigHome, ensureBuilt, opsctl } from './run-opsctl.js';

const home = new ConfigHome();
let fake: FakeManager;

test.before(async () => {
  ensureBuilt();
  fake = await startFakeManager();
});
test.after(async () => {
  await fake.close();
  home.remove();
});

test('manager down: one line naming the address, exit 1', async () => {
  const port = await freePort();
  const server = `http://127.0.0.1:${port}`;
  for (const args of [['nodes', 'ls'], ['tasks', 'run', '--all', '--', 'true'], ['login', '--username', 'a', '--password', 'b']]) {
    const r = await opsctl(home, args, { env: { OPSCTL_SERVER: server, OPSCTL_TOKEN: 'x' } });
    assert.is(r.code, 1, args.join(' '));
    assert.is(r.stderr, `Error: cannot reach the manager at ${server} (connection refused)\n`);
    assert.is(r.stdout, '');
  }
});

test('--server overrides $OPSCTL_SERVER', async () => {
  const port = await freePort();
  fake.nodes = [];
  const r = await opsctl(home, ['nodes', 'ls', '--server', fake.url], { env: { OPSCTL_SERVER: `http://127.0.0.1:${port}`, OPSCTL_TOKEN: TOKEN } });
  assert.is(r.code, 0, r.stderr);
});

test('an API error shows the server message and code, exit 1', async () => {
  const r = await opsctl(home, ['nodes', 'show', 'no-such-node'], { env: { OPSCTL_SERVER: fake.url, OPSCTL_TOKEN: TOKEN } });
  assert.is(r.code, 1);
  assert.is(r.stderr, 'Error: node no-such-node not found (code 1004)\n');
  assert.is(r.stdout, '');
});

test('a rejected token says how to sign in again', async () => {
  const r = await opsctl(home, ['nodes', 'ls'], { env: { OPSCTL_SERVER: fake.url, OPSCTL_TOKEN: 'expired' } });
  assert.is(r.code, 1);
  assert.is(r.stderr, `Error: missing or invalid access token (code 1002); run 'opsctl login --server ${fake.url}' to sign in again\n`);
});

test('no saved login: says to log in, sends nothing', async () => {
  const before = fake.requests.length;
  const r = await opsctl(home, ['nodes', 'ls'], { env: { OPSCTL_SERVER: fake.url } });
  assert.is(r.code, 1);
  assert.is(r.stderr, `Error: not logged in to ${fake.url}: run 'opsctl login --server ${fake.url}'\n`);
  assert.is(fake.requests.length, before);
});

test('an answer that is not the envelope (a proxy page) is reported, exit 1', async () => {
  const proxy = createServer((_req, res) => { res.writeHead(502, { 'content-type': 'text/html' }); res.end('<html>Bad Gateway</html>'); });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  try {
    const r = await opsctl(home, ['nodes', 'ls'], { env: { OPSCTL_SERVER: url, OPSCTL_TOKEN: TOKEN } });
    assert.is(r.code, 1);
    assert.is(r.stderr, `Error: unexpected answer from the manager at ${url}: HTTP 502 Bad Gateway\n`);
  } finally {
    await new Promise((resolve) => proxy.close(resolve));
  }
});

test.run();
