// agentd's start-up pieces: config file in step with the defaults, listen parsing, allowlist,
// keys reload. The keys file and pid file formats (proto/) are tested in test/unit/.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { flatten, type ConfigTree } from '../../lib/config.js';
import { packageRoot } from '../../lib/version.js';
import { AGENTD_DEFAULTS, loadAgentdConfig, parseListen } from '../../agentd/config.js';
import { AGENTD_SPEC } from '../../agentd/cli-spec.js';
import { AllowList } from '../../agentd/ip-allow.js';
import { KeyStore } from '../../agentd/keys.js';
import { ensureHostdKey } from '../../proto/agent-keys-file.js';
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

test('parseListen accepts host:port, [v6]:port, :port and port 0; refuses the rest', () => {
  assert.equal(parseListen('127.0.0.1:8442'), { host: '127.0.0.1', port: 8442 });
  assert.equal(parseListen('[::1]:9000'), { host: '::1', port: 9000 });
  assert.equal(parseListen(':8442'), { host: '0.0.0.0', port: 8442 });
  assert.equal(parseListen('127.0.0.1:0'), { host: '127.0.0.1', port: 0 }, 'any free port');
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

test('keys file: hostd adding its key (a new file renamed over the old) is picked up', () => {
  const path = join(dir, 'by-hostd.json');
  writeFileSync(path, JSON.stringify({ keys: { opsctl: 'c'.repeat(40) } }), { mode: 0o600 });
  const store = new KeyStore(path);
  assert.is(store.lookup('hostd'), undefined);
  const secret = ensureHostdKey(path);
  assert.is(store.lookup('hostd'), secret);
  assert.is(store.lookup('opsctl'), 'c'.repeat(40));
});

test('state folder: stateDir when set (created 0700), else the keys file\'s folder', async () => {
  const { agentdStateDir, openNonceStore } = await import('../../agentd/state.js');
  assert.is(agentdStateDir({ stateDir: '', auth: { keysFile: '/etc/opsctl/agent-keys.json' } }), '/etc/opsctl');
  assert.is(agentdStateDir({ stateDir: '/var/lib/agentd', auth: { keysFile: '/etc/opsctl/agent-keys.json' } }), '/var/lib/agentd');
  const { mkdtempSync, rmSync, statSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const root = mkdtempSync(join(tmpdir(), 'ops-agentd-state-'));
  try {
    const dir = join(root, 'state', 'nested');
    openNonceStore({ stateDir: dir, auth: { keysFile: join(root, 'keys.json') } });
    assert.is(statSync(dir).mode & 0o777, 0o700);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
