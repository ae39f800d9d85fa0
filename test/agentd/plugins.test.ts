// Executor plugins: a temp plugins dir holding a copy of examples/plugins/http-probe (probing a real
// local HTTP server) next to plugins that are broken, unsafe, throwing or deaf to the abort
// signal; runs go through agentd's HTTP app (newApp/injectSigned), and a real agentd process
// reports the plugins in GET /v1/health.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import { AGENT_API, type AgentExecEvent, type AgentHealth } from '../../proto/agent-api.js';
import { ConfigError } from '../../lib/config.js';
import { packageRoot } from '../../lib/version.js';
import { loadPlugins, type PluginSet } from '../../agentd/plugins/loader.js';
import { ManifestError, parseManifest } from '../../agentd/plugins/manifest.js';
import { convertParam } from '../../agentd/plugins/params.js';
import type { ExitEvent } from '../../agentd/exec/executor.js';
import { injectSigned, newApp, newExecutor, parseNdjson, quietLog, signedHeaders, tempDir, waitUntil, writeKeysFile } from './helpers/fixtures.js';
import { startAgentd, startServingAgentd, type AgentdProcess } from './helpers/agentd-process.js';

const dir = tempDir('agentd-plugins-');
const pluginsDir = join(dir, 'plugins');
const outside = join(dir, 'outside');
const started: AgentdProcess[] = [];

/** Makes every file and folder under `path` writable by its owner only, as an install would. */
function tighten(path: string): void {
  const st = statSync(path);
  chmodSync(path, st.mode & 0o755);
  if (st.isDirectory()) for (const name of readdirSync(path)) tighten(join(path, name));
}

/** A plugin folder `<pluginsDir>/<name>` with this manifest (object or raw text) and files. */
function plugin(name: string, manifest: object | string, files: Record<string, string> = {}): string {
  const folder = join(pluginsDir, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'plugin.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(folder, file), text);
  tighten(folder);
  return folder;
}

const manifest = (name: string, params: object = {}) => ({ name, version: '1.0.0', main: 'index.mjs', params });
const releaseFile = join(dir, 'release-deaf');
const deafDone = join(dir, 'deaf-done');
const unsafeRan = join(dir, 'unsafe-imported');

mkdirSync(pluginsDir, { mode: 0o755 });
mkdirSync(outside);
cpSync(join(packageRoot(), 'examples', 'plugins', 'http-probe'), join(pluginsDir, 'http-probe'), { recursive: true });
tighten(join(pluginsDir, 'http-probe'));
plugin('echo-params', manifest('echo-params', {
  count: { type: 'integer', required: true },
  ratio: { type: 'number' },
  verbose: { type: 'boolean', default: false },
  label: { type: 'string', default: 'none' },
}), { 'index.mjs': 'export async function run(params, ctx) { ctx.output("stdout", "ok\\n"); return { exitCode: 0, result: params }; }\n' });
plugin('thrower', manifest('thrower'), { 'index.mjs': 'export async function run() { throw new Error("boom: the disk is on fire"); }\n' });
plugin('bad-return', manifest('bad-return'), { 'index.mjs': 'export function run() { return { exitCode: "zero" }; }\n' });
// Ignores ctx.signal and only returns once the test creates releaseFile, then reports late.
plugin('deaf', manifest('deaf'), {
  'index.mjs': `import { existsSync, writeFileSync } from 'node:fs';
export async function run(params, ctx) {
  while (!existsSync(${JSON.stringify(releaseFile)})) await new Promise((r) => setTimeout(r, 20));
  ctx.output('stdout', 'too late\\n');
  setImmediate(() => writeFileSync(${JSON.stringify(deafDone)}, 'x'));
  return { exitCode: 0, result: { late: true } };
}
`,
});
plugin('bad-type', { ...manifest('bad-type', { n: { type: 'float' }, ok: { type: 'integer', default: 'ten' } }), mian: 'index.mjs' }, { 'index.mjs': 'export function run() {}\n' });
plugin('bad-json', '{"name": "bad-json",', { 'index.mjs': 'export function run() {}\n' });
plugin('no-main', manifest('no-main'));
plugin('no-run', manifest('no-run'), { 'index.mjs': 'export const walk = 1;\n' });
plugin('import-throws', manifest('import-throws'), { 'index.mjs': 'throw new Error("cannot start: no config");\n' });
plugin('wrong-folder', manifest('other-name'), { 'index.mjs': 'export function run() {}\n' });
const unsafe = plugin('world-writable', manifest('world-writable'), {
  'index.mjs': `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(unsafeRan)}, 'x');\nexport function run() { return { exitCode: 0 }; }\n`,
});
chmodSync(join(unsafe, 'index.mjs'), 0o646);
const groupDir = plugin('group-writable', manifest('group-writable'), { 'index.mjs': 'export function run() { return { exitCode: 0 }; }\n' });
chmodSync(groupDir, 0o775);
writeFileSync(join(outside, 'evil.mjs'), 'export function run() { return { exitCode: 0 }; }\n');
const linked = plugin('escaping-link', manifest('escaping-link'));
symlinkSync(join(outside, 'evil.mjs'), join(linked, 'index.mjs'));
// A link that stays inside its folder is fine.
const inner = plugin('inner-link', manifest('inner-link'), { 'real.mjs': 'export function run() { return { exitCode: 0, result: { via: "link" } }; }\n' });
symlinkSync('real.mjs', join(inner, 'index.mjs'));
writeFileSync(join(pluginsDir, 'README.txt'), 'not a plugin\n');
tighten(join(pluginsDir, 'README.txt'));

let set: PluginSet;
let executor: ReturnType<typeof newExecutor>;
let app: ReturnType<typeof newApp>;
let server: Server;
let baseUrl: string;
let answer = 200;

test.before(async () => {
  set = await loadPlugins(pluginsDir, quietLog);
  executor = newExecutor({ plugins: set });
  app = newApp(executor);
  server = createServer((req, res) => { res.statusCode = answer; res.end(`${req.method} ${req.url}`); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.after(async () => {
  for (const p of started) await p.stop();
  writeFileSync(releaseFile, 'x');
  await executor?.shutdown(0);
  await app?.close();
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a plugin through the HTTP app: the exit event (and all events) of an accepted run, or the refusal. */
async function runPlugin(runId: string, name: string, params?: Record<string, string>, timeoutMs?: number) {
  const res = await injectSigned(app, 'POST', AGENT_API.exec, { runId, kind: 'plugin', params: { name, ...(params ? { params } : {}) }, ...(timeoutMs ? { timeoutMs } : {}) });
  const events = res.statusCode === 200 ? parseNdjson(res.body) : [];
  const exit = events.find((e): e is ExitEvent => e.type === 'exit');
  return { res, events, exit, output: events.filter((e) => e.type === 'output').map((e) => (e as { data: string }).data).join('') };
}

async function assertRefused(runId: string, name: string, params: Record<string, string> | undefined, message: RegExp) {
  const { res } = await runPlugin(runId, name, params);
  assert.is(res.statusCode, 400, res.body);
  const body = res.json();
  assert.is(body.code, 1001);
  assert.match(body.message, message);
  assert.is(executor.cancel(runId), 'unknown', 'a refused run is never queued');
}

test('GET /v1/health lists the loaded plugins as name@version and why the others were not loaded', async () => {
  const health = (await injectSigned(app, 'GET', AGENT_API.health)).json().data as AgentHealth;
  assert.ok(health.kinds.includes('plugin'));
  assert.equal(health.plugins, ['bad-return@1.0.0', 'deaf@1.0.0', 'echo-params@1.0.0', 'http-probe@1.0.0', 'inner-link@1.0.0', 'thrower@1.0.0']);
  const why = Object.fromEntries(health.pluginErrors.map((e) => [e.dir.slice(pluginsDir.length + 1), e.error]));
  assert.equal(Object.keys(why).sort(), ['bad-json', 'bad-type', 'escaping-link', 'group-writable', 'import-throws', 'no-main', 'no-run', 'world-writable', 'wrong-folder']);
  assert.match(why['bad-type'], /params\.n\.type must be one of string, integer, number, boolean, got "float"/);
  assert.match(why['bad-type'], /params\.ok\.default must be an integer, got "ten"/);
  assert.match(why['bad-type'], /mian is not a manifest field/);
  assert.match(why['bad-json'], /plugin\.json is not valid JSON/);
  assert.match(why['no-main'], /main index\.mjs: no such file/);
  assert.match(why['no-run'], /index\.mjs exports no run function/);
  assert.match(why['import-throws'], /importing index\.mjs: cannot start: no config/);
  assert.match(why['wrong-folder'], /name "other-name" must equal the plugin's folder name "wrong-folder"/);
  assert.match(why['world-writable'], /index\.mjs has mode 0646: it must not be writable by group or others/);
  assert.match(why['group-writable'], /^\. has mode 0775/);
  assert.match(why['escaping-link'], /index\.mjs is a symbolic link leaving the plugin folder/);
  assert.not.ok(existsSync(unsafeRan), 'the code of a refused plugin was never imported');
});

test('http-probe: the expected status → succeeded, with status and latency in the result and one line of output', async () => {
  answer = 200;
  const { exit, output } = await runPlugin('probe-ok', 'http-probe', { url: `${baseUrl}/health` });
  assert.is(exit?.status, 'succeeded', JSON.stringify(exit));
  assert.is(exit!.exitCode, 0);
  const result = exit!.result as { status: number; latencyMs: number; expect: number; method: string };
  assert.is(result.status, 200);
  assert.is(result.expect, 200);
  assert.is(result.method, 'GET');
  assert.type(result.latencyMs, 'number');
  assert.match(output, new RegExp(`^GET ${baseUrl}/health → 200 in \\d+ ms\\n$`));
});

test('http-probe: another status → failed naming both; -p method and expect are used', async () => {
  answer = 503;
  const failed = await runPlugin('probe-503', 'http-probe', { url: `${baseUrl}/`, expect: '200' });
  assert.is(failed.exit?.status, 'failed');
  assert.is(failed.exit!.error, `GET ${baseUrl}/ answered 503, expected 200`);
  assert.is((failed.exit!.result as { status: number }).status, 503);
  const head = await runPlugin('probe-head', 'http-probe', { url: `${baseUrl}/`, method: 'HEAD', expect: '503' });
  assert.is(head.exit?.status, 'succeeded');
  assert.match(head.output, /^HEAD /);
});

test('http-probe: an unreachable address → failed with a clear message', async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const { exit, output } = await runPlugin('probe-down', 'http-probe', { url: `http://127.0.0.1:${port}/` });
  assert.is(exit?.status, 'failed');
  assert.is(exit!.error, `GET http://127.0.0.1:${port}/: connection refused (ECONNREFUSED)`);
  assert.match(output, /connection refused/);
  assert.is((exit!.result as { status: unknown }).status, null);
  const notUrl = await runPlugin('probe-ftp', 'http-probe', { url: 'ftp://example.com/' });
  assert.is(notUrl.exit?.status, 'error');
  assert.match(notUrl.exit!.error!, /url must start with http:\/\/ or https:\/\//);
});

test('parameters are converted to the manifest types, defaults filled in', async () => {
  const { exit } = await runPlugin('echo-1', 'echo-params', { count: '3', ratio: '-1.5e2', verbose: 'true' });
  assert.is(exit?.status, 'succeeded');
  assert.equal(exit!.result, { count: 3, ratio: -150, verbose: true, label: 'none' });
});

test('a value that does not convert, an unknown or a missing parameter → 400 / 1001 before anything runs', async () => {
  await assertRefused('bad-int', 'echo-params', { count: 'three' }, /^plugin echo-params: parameter count must be a whole number \(e\.g\. 200\), got "three"$/);
  await assertRefused('bad-num', 'echo-params', { count: '1', ratio: '1.5x' }, /parameter ratio must be a number/);
  await assertRefused('bad-bool', 'echo-params', { count: '1', verbose: 'yes' }, /parameter verbose must be true or false, got "yes"/);
  await assertRefused('unknown', 'echo-params', { count: '1', colour: 'red' }, /unknown parameter colour \(echo-params takes: count \(integer, required\), ratio \(number\), verbose \(boolean, default false\), label \(string, default "none"\)\)/);
  await assertRefused('missing', 'echo-params', {}, /parameter count is required \(integer\)/);
  await assertRefused('all-at-once', 'echo-params', { ratio: 'x', extra: '1' }, /parameter ratio must be a number.*; unknown parameter extra.*; parameter count is required/);
  await assertRefused('no-such', 'nope', undefined, /no plugin "nope" on this host \(loaded: bad-return@1\.0\.0, deaf@1\.0\.0, /);
  await assertRefused('refused-one', 'world-writable', undefined, /no plugin "world-writable" on this host/);
  await assertRefused('bad-name', 'echo-params', { 'not-a-name': '1' }, /body\.params\.params\.not-a-name is not allowed/);
  await assertRefused('not-text', 'echo-params', { count: 3 } as unknown as Record<string, string>, /body\.params\.params\.count must be string/);
});

test('a plugin that throws fails only its own run; the next run of another plugin works', async () => {
  const thrown = await runPlugin('throw-1', 'thrower');
  assert.is(thrown.exit?.status, 'error');
  assert.is(thrown.exit!.error, 'plugin thrower failed: boom: the disk is on fire');
  const bad = await runPlugin('bad-return-1', 'bad-return');
  assert.is(bad.exit?.status, 'error');
  assert.match(bad.exit!.error!, /plugin bad-return returned exitCode "zero" \(must be a whole number\)/);
  const next = await runPlugin('after-throw', 'echo-params', { count: '1' });
  assert.is(next.exit?.status, 'succeeded');
  const linkedRun = await runPlugin('inner-link-1', 'inner-link');
  assert.equal(linkedRun.exit?.result, { via: 'link' });
});

test('a plugin deaf to the abort signal still ends at the timeout; its late result and output are dropped', async () => {
  const events: AgentExecEvent[] = [];
  const done = executor.submit({ runId: 'deaf-1', kind: 'plugin', params: { name: 'deaf' }, timeoutMs: 100 }, (e) => { events.push(e); });
  await done;
  const exits = () => events.filter((e) => e.type === 'exit') as ExitEvent[];
  assert.is(exits().length, 1);
  assert.is(exits()[0].status, 'timeout');
  assert.is(exits()[0].error, 'timed out after 100 ms');
  assert.is(executor.running, 0, 'the slot is free again');
  writeFileSync(releaseFile, 'x');
  await waitUntil('the deaf plugin to return', () => existsSync(deafDone));
  await new Promise((r) => setImmediate(r));
  assert.is(events.filter((e) => e.type === 'exit').length, 1, 'no second exit');
  assert.not.ok(events.some((e) => e.type === 'output'), 'no output after the end');
  const cancelled = await runPlugin('deaf-2', 'echo-params', { count: '2' });
  assert.is(cancelled.exit?.status, 'succeeded');
});

test('manifest: every problem reported at once, by field', () => {
  try {
    parseManifest({ name: 'Bad_Name', version: 'one', main: '../x.mjs', params: { '1x': { type: 'string' }, r: { type: 'integer', required: true, default: 3 }, q: 'string' } }, 'bad');
    assert.unreachable('accepted a bad manifest');
  } catch (err) {
    assert.instance(err, ManifestError);
    const problems = (err as ManifestError).problems;
    assert.ok(problems.some((p) => /^name "Bad_Name" must be lower case letters/.test(p)), problems.join('\n'));
    assert.ok(problems.some((p) => /^version "one" must be a version like 1\.0\.0/.test(p)));
    assert.ok(problems.some((p) => /^main "\.\.\/x\.mjs" must stay inside the plugin folder/.test(p)));
    assert.ok(problems.some((p) => /^params\.1x: a parameter name must be/.test(p)));
    assert.ok(problems.some((p) => /^params\.r: a required parameter cannot have a default/.test(p)));
    assert.ok(problems.some((p) => /^params\.q must be an object/.test(p)));
  }
  assert.throws(() => parseManifest([], 'x'), /plugin\.json: must be a JSON object/);
  assert.throws(() => parseManifest({ name: 'x', version: '1.0.0' }, 'x'), /main is required/);
  assert.throws(() => parseManifest({ name: 'x', version: '1.0.0', main: 'index.py' }, 'x'), /main "index\.py" must be a relative path to a \.mjs or \.js file/);
});

test('convertParam: integers, numbers and booleans from text', () => {
  assert.is(convertParam('integer', '-42'), -42);
  assert.is(convertParam('integer', '4.2'), undefined);
  assert.is(convertParam('integer', ''), undefined);
  assert.is(convertParam('integer', '99999999999999999999'), undefined);
  assert.is(convertParam('number', '.5'), 0.5);
  assert.is(convertParam('number', '0x10'), undefined);
  assert.is(convertParam('number', 'Infinity'), undefined);
  assert.is(convertParam('number', ' 1'), undefined);
  assert.is(convertParam('boolean', 'false'), false);
  assert.is(convertParam('boolean', 'True'), undefined);
  assert.is(convertParam('string', ''), '');
});

test('plugins.dir that is missing, a file, or writable by others stops the load with a ConfigError', async () => {
  await assert.not.throws(async () => loadPlugins('', quietLog));
  const none = await loadPlugins('', quietLog);
  assert.is(none.plugins.size, 0);
  const expectConfigError = async (path: string, message: RegExp) => {
    try {
      await loadPlugins(path, quietLog);
      assert.unreachable(`${path} accepted`);
    } catch (err) {
      assert.instance(err, ConfigError);
      assert.match((err as Error).message, message);
    }
  };
  await expectConfigError(join(dir, 'missing'), /plugins\.dir .*missing: no such directory/);
  await expectConfigError(join(pluginsDir, 'README.txt'), /is not a directory/);
  const open = join(dir, 'open-plugins');
  mkdirSync(open);
  chmodSync(open, 0o777);
  await expectConfigError(open, /has mode 0777: it must not be writable by group or others \(chmod go-w /);
});

test('a real agentd with --plugins-dir lists the plugins in GET /v1/health; a bad plugins dir stops it (exit 1)', async () => {
  const keysFile = writeKeysFile(dir);
  const { agentd, baseUrl: agentUrl } = await startServingAgentd(['--keys-file', keysFile, '--plugins-dir', pluginsDir]);
  started.push(agentd);
  const res = await request(`${agentUrl}${AGENT_API.health}`, { headers: signedHeaders('GET', AGENT_API.health) });
  const health = ((await res.body.json()) as { data: AgentHealth }).data;
  assert.ok(health.plugins.includes('http-probe@1.0.0'), health.plugins.join(', '));
  assert.ok(health.pluginErrors.some((e) => e.dir.endsWith('world-writable')));
  assert.ok(agentd.logs().some((l) => l.msg === 'plugin not loaded' && String(l.dir).endsWith('bad-type')), 'a broken plugin is logged');
  const bad = startAgentd(['--keys-file', keysFile, '--listen', '127.0.0.1:0', '--plugins-dir', join(dir, 'missing')]);
  started.push(bad);
  assert.is(await bad.exited, 1);
  assert.match(bad.stderr(), /plugins\.dir .*missing: no such directory/);
});

test.run();
