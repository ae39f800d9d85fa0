// agentd's start-up pieces: config file in step with the defaults, listen parsing, allowlist,
// keys file checks and reload, pid file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { flatten, type ConfigTree } from '../../lib/config.js';
import { packageRoot } from '../../lib/version.js';
import { AGENTD_DEFAULTS, loadAgentdConfig, parseListen } from '../../agentd/config.js';
import { AGENTD_SPEC } from '../../agentd/cli-spec.js';
import { AllowList } from '../../agentd/ip-allow.js';
import { KeyStore, KeysFileError, readKeysFile } from '../../agentd/keys.js';
import { PidFile } from '../../agentd/pid-file.js';
import { tempDir, writeKeysFile } from './helpers/fixtures.js';

const dir = tempDir();
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('configs/agentd.yaml documents every option with its default value', () => {
  const yamlPath = join(packageRoot(), 'configs', 'agentd.yaml');
  const documented = flatten(parseYaml(readFileSync(yamlPath, 'utf8')) as ConfigTree);
  assert.equal(documented, flatten(AGENTD_DEFAULTS as unknown as ConfigTree));
});

test('every flag with a config key names a real option', () => {
  const keys = Object.keys(flatten(AGENTD_DEFAULTS as unknown as ConfigTree));
  for (const f of AGENTD_SPEC.flags) if (f.configKey) assert.ok(keys.includes(f.configKey), f.configKey);
});

test('config: flags > env > YAML > defaults, and bad values fail with the key named', () => {
  const keys = writeKeysFile(dir);
  const yaml = join(dir, 'a.yaml');
  writeFileSync(yaml, `auth:\n  keysFile: ${keys}\ntasks:\n  maxConcurrent: 3\n  outputChunkBytes: 100\n`);
  const cfg = loadAgentdConfig(yaml, { 'tasks.maxConcurrent': '7' }, { OPS_TASKS_MAX_CONCURRENT: '5', OPS_TASKS_OUTPUT_CHUNK_BYTES: '200' });
  assert.is(cfg.tasks.maxConcurrent, 7);
  assert.is(cfg.tasks.outputChunkBytes, 200);
  assert.is(cfg.http.listen, '127.0.0.1:8442');
  assert.equal(cfg.http.allow, ['127.0.0.1/32', '::1/128']);
  const withFlags = loadAgentdConfig(undefined, { 'auth.keysFile': keys, 'http.allow': '10.0.0.0/8, 127.0.0.1' }, {});
  assert.equal(withFlags.http.allow, ['10.0.0.0/8', '127.0.0.1']);
  assert.throws(() => loadAgentdConfig(undefined, { 'auth.keysFile': keys, 'tasks.maxConcurrent': '0' }, {}), /tasks\.maxConcurrent must be a whole number/);
  assert.throws(() => loadAgentdConfig(undefined, { 'auth.keysFile': keys, 'http.tlsCert': '/x.crt' }, {}), /must be set together/);
  assert.throws(() => loadAgentdConfig(undefined, {}, {}), /no keys file/);
  assert.throws(() => loadAgentdConfig(join(dir, 'missing.yaml'), {}, {}), /reading config file/);
});

test('parseListen accepts host:port, [v6]:port and :port; refuses the rest', () => {
  assert.equal(parseListen('127.0.0.1:8442'), { host: '127.0.0.1', port: 8442 });
  assert.equal(parseListen('[::1]:9000'), { host: '::1', port: 9000 });
  assert.equal(parseListen(':8442'), { host: '0.0.0.0', port: 8442 });
  for (const bad of ['8442', 'host', '127.0.0.1:99999', '::1:8442', '127.0.0.1:']) assert.throws(() => parseListen(bad), /HOST:PORT/, bad);
});

test('allowlist: CIDRs, single hosts, IPv4-mapped IPv6; bad entries refused', () => {
  const allow = new AllowList(['127.0.0.1/32', '10.0.0.0/8', '::1/128', '192.168.1.5']);
  assert.ok(allow.allows('127.0.0.1'));
  assert.ok(allow.allows('10.200.3.4'));
  assert.ok(allow.allows('::1'));
  assert.ok(allow.allows('::ffff:10.1.1.1'));
  assert.ok(allow.allows('192.168.1.5'));
  assert.not.ok(allow.allows('192.168.1.6'));
  assert.not.ok(allow.allows('127.0.0.2'));
  assert.not.ok(allow.allows('::2'));
  assert.not.ok(allow.allows(undefined));
  assert.not.ok(allow.allows('garbage'));
  assert.not.ok(new AllowList([]).allows('127.0.0.1'), 'an empty list allows nobody');
  for (const bad of ['10.0.0.0/33', 'example.com', '10.0.0.0/8/1', '::1/129', '10.0.0.0/x']) assert.throws(() => new AllowList([bad]), /http\.allow/, bad);
});

test('keys file: mode 0644 and 0640 refused, malformed content refused with the reason', () => {
  const path = writeKeysFile(dir, 0o600);
  assert.is(readKeysFile(path).keys.size, 1);
  for (const mode of [0o644, 0o640, 0o604]) {
    chmodSync(path, mode);
    assert.throws(() => readKeysFile(path), (e: Error) => e instanceof KeysFileError && /must not be readable by group or others/.test(e.message));
  }
  chmodSync(path, 0o400);
  assert.is(readKeysFile(path).keys.size, 1, '0400 is stricter and fine');
  const cases: [string, RegExp][] = [
    ['[]', /must hold \{"keys"/],
    ['{"keys": []}', /must hold \{"keys"/],
    ['{"keys": {}}', /holds no keys/],
    ['{"keys": {"hostd": "short"}}', /at least 32 characters/],
    ['{"keys": {"hostd": 12}}', /at least 32 characters/],
    ['nope', /parsing keys file/],
  ];
  for (const [text, message] of cases) {
    const p = join(dir, 'k.json');
    writeFileSync(p, text, { mode: 0o600 });
    assert.throws(() => readKeysFile(p), message, text);
  }
  assert.throws(() => readKeysFile(join(dir, 'absent.json')), /reading keys file/);
  assert.throws(() => readKeysFile(dir), /not a regular file/);
});

test('keys file: a rewritten file is picked up; a broken rewrite keeps the old keys', () => {
  const path = join(dir, 'reload.json');
  writeFileSync(path, JSON.stringify({ keys: { hostd: 'a'.repeat(64) } }), { mode: 0o600 });
  const store = new KeyStore(path);
  assert.is(store.lookup('hostd'), 'a'.repeat(64));
  writeFileSync(path, JSON.stringify({ keys: { hostd: 'b'.repeat(64), opsctl: 'c'.repeat(40) } }));
  assert.is(store.lookup('hostd'), 'b'.repeat(64));
  assert.is(store.lookup('opsctl'), 'c'.repeat(40));
  writeFileSync(path, '{broken');
  assert.is(store.lookup('hostd'), 'b'.repeat(64));
  chmodSync(path, 0o644);
  writeFileSync(path, JSON.stringify({ keys: { hostd: 'd'.repeat(64) } }));
  assert.is(store.lookup('hostd'), 'b'.repeat(64), 'an unsafe file is not trusted');
  assert.is(store.lookup('nobody'), undefined);
});

test('pid file: written, refused when another live process owns it, removed only if still ours', async () => {
  const path = join(dir, 'x.pid');
  const mine = new PidFile(path);
  await mine.start();
  assert.is(readFileSync(path, 'utf8'), `${process.pid}\n`);
  // Our parent is alive and not us: a second agentd with another pid must refuse.
  const rival = new PidFile(path, process.ppid + 1_000_000);
  await rival.start().then(() => assert.unreachable('started'), (e: Error) => assert.match(e.message, /still running/));
  await mine.stop();
  assert.not.ok(existsSync(path));
  writeFileSync(path, '999999999\n'); // a pid that cannot be alive
  await mine.start();
  writeFileSync(path, '12345\n'); // a successor took over
  await mine.stop();
  assert.ok(existsSync(path), 'someone else\'s pid file is left alone');
  writeFileSync(path, 'not a pid');
  await mine.start();
  await mine.stop();
});

test.run();
