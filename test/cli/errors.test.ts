// How opsctl reports a manager that is down, the real manager's API errors, odd answers (a proxy
// page) and a missing login.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:http';
import { freePort } from '../helpers/ports.js';
import { startManager, type TestManager } from './manager.js';
import { ConfigHome, ensureBuilt, opsctl } from './run-opsctl.js';

const home = new ConfigHome();
let m: TestManager;

test.before(async () => {
  ensureBuilt();
  m = await startManager();
});
test.after(async () => {
  await m?.stop();
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
  const r = await opsctl(home, ['nodes', 'ls', '--json', '--server', m.url], { env: { OPSCTL_SERVER: `http://127.0.0.1:${port}`, OPSCTL_TOKEN: m.token } });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '[]\n');
});

test('an API error shows the server message and code, exit 1', async () => {
  const r = await opsctl(home, ['nodes', 'show', 'no-such-node'], { env: { OPSCTL_SERVER: m.url, OPSCTL_TOKEN: m.token } });
  assert.is(r.code, 1);
  assert.is(r.stderr, 'Error: node "no-such-node" not found (code 1004)\n');
  assert.is(r.stdout, '');
});

test('a rejected token says how to sign in again', async () => {
  const r = await opsctl(home, ['nodes', 'ls'], { env: { OPSCTL_SERVER: m.url, OPSCTL_TOKEN: 'expired' } });
  assert.is(r.code, 1);
  assert.is(r.stderr, `Error: invalid or expired access token (code 1002); run 'opsctl login --server ${m.url}' to sign in again\n`);
});

test('no saved login: says to log in, sends nothing', async () => {
  const before = m.requestCount();
  const r = await opsctl(home, ['nodes', 'ls'], { env: { OPSCTL_SERVER: m.url } });
  assert.is(r.code, 1);
  assert.is(r.stderr, `Error: not logged in to ${m.url}: run 'opsctl login --server ${m.url}'\n`);
  assert.is(m.requestCount(), before);
});

test('an answer that is not the envelope (a proxy page) is reported, exit 1', async () => {
  const proxy = createServer((_req, res) => { res.writeHead(502, { 'content-type': 'text/html' }); res.end('<html>Bad Gateway</html>'); });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  try {
    const r = await opsctl(home, ['nodes', 'ls'], { env: { OPSCTL_SERVER: url, OPSCTL_TOKEN: m.token } });
    assert.is(r.code, 1);
    assert.is(r.stderr, `Error: unexpected answer from the manager at ${url}: HTTP 502 Bad Gateway\n`);
  } finally {
    await new Promise((resolve) => proxy.close(resolve));
  }
});

test.run();
