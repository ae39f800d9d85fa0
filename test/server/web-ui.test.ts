// The manager serving the web UI (server/modules/web-ui) from a build made here: hashed assets
// cached for good, index.html asked again, the app's own paths answered with index.html, /api/
// never shadowed (an unknown API path stays a JSON 404), no path leaving the build, and a
// manager without a build still answering the API with a hint for the UI.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { makeHarness, type Harness } from './harness.js';

const build = mkdtempSync(join(tmpdir(), 'ops-web-build-'));
const INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-AbC123.js"></script></head><body><div id="root"></div></body></html>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});`;
mkdirSync(join(build, 'assets'));
writeFileSync(join(build, 'index.html'), INDEX);
writeFileSync(join(build, 'assets', 'index-AbC123.js'), SCRIPT);
writeFileSync(join(build, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
// Outside the build, next to it: must never be reachable.
writeFileSync(join(build, '..', 'ops-web-secret.txt'), 'secret');

const built = suite<{ h: Harness }>('web UI, built');
built.before(async (ctx) => { ctx.h = await makeHarness('sqlite', { webUi: { dir: build } }); });
built.after(async (ctx) => { await ctx.h?.close(); });

const get = (h: Harness, url: string, headers: Record<string, string> = {}) => h.app.inject({ method: 'GET', url, headers });

built('/ and the pages of the app, and paths below them, answer index.html, asked again every time, with a strict content security policy', async ({ h }) => {
  for (const url of ['/', '/nodes', '/nodes/web-1?range=24h', '/tasks/abc', '/signin?next=%2Fnodes', '/audit?actor=admin']) {
    const res = await get(h, url);
    assert.is(res.statusCode, 200, url);
    assert.is(res.body, INDEX, url);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.is(res.headers['cache-control'], 'no-cache', url);
    assert.match(String(res.headers['content-security-policy']), /script-src 'self'/);
    assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'none'/);
  }
});

built('hashed assets are immutable, served gzipped when asked, and revalidate with their ETag', async ({ h }) => {
  const res = await get(h, '/assets/index-AbC123.js', { 'accept-encoding': 'gzip, br' });
  assert.is(res.statusCode, 200);
  assert.is(res.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.match(String(res.headers['content-type']), /^text\/javascript/);
  assert.is(res.headers['content-encoding'], 'gzip');
  assert.is(gunzipSync(res.rawPayload).toString(), SCRIPT);
  const plain = await get(h, '/assets/index-AbC123.js');
  assert.is(plain.headers['content-encoding'], undefined);
  assert.is(plain.body, SCRIPT);
  const again = await get(h, '/assets/index-AbC123.js', { 'if-none-match': String(res.headers.etag) });
  assert.is(again.statusCode, 304);
  const icon = await get(h, '/favicon.svg');
  assert.is(icon.headers['cache-control'], 'no-cache');
  assert.is(icon.headers['content-type'], 'image/svg+xml');
});

built('a missing hashed asset is a 404, not index.html (an old page would run HTML as a script)', async ({ h }) => {
  const res = await get(h, '/assets/index-Old999.js');
  assert.is(res.statusCode, 404);
  assert.not.match(res.body, /<html/);
});

built('/api/ is never shadowed: unknown API paths stay JSON 404s, known ones answer as before', async ({ h }) => {
  const auth = { authorization: `Bearer ${h.token}` };
  for (const url of ['/api/v1/no-such-thing', '/api/v2/nodes', '/api/', '/api', '/no-page-of-the-app']) {
    const anonymous = await get(h, url);
    assert.is(anonymous.statusCode, 401, url);
    assert.is(anonymous.json().code, 1002, url);
    const res = await get(h, url, auth);
    assert.is(res.statusCode, 404, url);
    assert.match(String(res.headers['content-type']), /^application\/json/, url);
    assert.is(res.json().code, 1004, url);
  }
  const health = await get(h, '/api/v1/health');
  assert.is(health.statusCode, 200);
  const nodes = await get(h, '/api/v1/nodes');
  assert.is(nodes.statusCode, 401, 'the UI route does not open the API');
  assert.is(nodes.json().code, 1002);
  const post = await h.app.inject({ method: 'POST', url: '/nodes', payload: {} });
  assert.ok(post.statusCode >= 400 && post.statusCode < 500, 'only GET falls back to the app');
  assert.not.match(post.body, /<html/);
});

built('no path leaves the build: ../ and encoded forms get index.html or a 404, never the file', async ({ h }) => {
  for (const url of ['/../ops-web-secret.txt', '/assets/../../ops-web-secret.txt', '/%2e%2e/ops-web-secret.txt', '/assets/%2e%2e%2f%2e%2e%2fops-web-secret.txt', '/..%2fops-web-secret.txt']) {
    const res = await get(h, url);
    assert.not.match(res.body, /secret/, url);
  }
});

built('an oversized path or query under a page is answered, not a crash: index.html, or the router\'s own refusal in the envelope', async ({ h }) => {
  for (const url of [`/nodes/${'n'.repeat(5000)}`, `/nodes?q=${'x'.repeat(20_000)}`, `/tasks/${'%ff'.repeat(100)}`]) {
    const res = await get(h, url);
    if (res.statusCode === 200) assert.is(res.body, INDEX, url.slice(0, 40));
    else {
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${url.slice(0, 40)}: ${res.statusCode}`);
      assert.match(res.body, /^\{"code":1\d\d\d,/, url.slice(0, 40));
    }
  }
  assert.is((await get(h, '/api/v1/health')).statusCode, 200);
});

const bare = suite<{ h: Harness; dir: string }>('web UI, not built');
bare.before(async (ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'ops-web-none-'));
  ctx.h = await makeHarness('sqlite', { webUi: { dir: ctx.dir } });
});
bare.after(async (ctx) => { await ctx.h?.close(); rmSync(ctx.dir, { recursive: true, force: true }); });

bare('without a build the manager starts, says so in its log, and answers UI paths with a hint', async ({ h }) => {
  assert.match(h.logText(), /web UI not built/);
  const res = await get(h, '/nodes');
  assert.is(res.statusCode, 404);
  assert.match(res.body, /npm run build/);
  assert.is((await get(h, '/api/v1/health')).statusCode, 200);
  assert.is((await get(h, '/api/v1/nope', { authorization: `Bearer ${h.token}` })).json().code, 1004);
});

built.run();
bare.run();
process.on('exit', () => { rmSync(build, { recursive: true, force: true }); rmSync(join(build, '..', 'ops-web-secret.txt'), { force: true }); });
