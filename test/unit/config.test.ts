import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as yamlParse } from 'yaml';
import { ConfigError, envName, loadConfig, parseDuration, parseSimpleYaml } from '../../lib/config.js';

const defaults = {
  dataDir: './data',
  http: { host: '127.0.0.1', port: 8440 },
  database: { url: '' },
  tasks: { maxConcurrent: 10, enabled: true, allow: ['127.0.0.1/32'] },
};

function yamlFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ops-config-')), 'c.yaml');
  writeFileSync(file, text);
  return file;
}

test('env names follow OPS_ + dotted key in upper snake case', () => {
  assert.is(envName('database.url'), 'OPS_DATABASE_URL');
  assert.is(envName('tasks.maxConcurrent'), 'OPS_TASKS_MAX_CONCURRENT');
  assert.is(envName('dataDir'), 'OPS_DATA_DIR');
});

test('defaults alone', () => {
  assert.equal(loadConfig({ defaults, env: {} }), defaults);
});

test('precedence: flags > environment > file > defaults', () => {
  const file = yamlFile('http:\n  port: 9000\n  host: 0.0.0.0\ndatabase:\n  url: mysql://file\n');
  const env = { OPS_HTTP_PORT: '9100', OPS_DATABASE_URL: 'mysql://env' };
  const cfg = loadConfig({ defaults, file, env, flags: { 'http.port': '9200' } });
  assert.is(cfg.http.port, 9200, 'flag wins over env');
  assert.is(cfg.database.url, 'mysql://env', 'env wins over file');
  assert.is(cfg.http.host, '0.0.0.0', 'file wins over default');
  assert.is(cfg.dataDir, './data', 'default stays');
});

test('values are coerced to the type of the default', () => {
  const cfg = loadConfig({ defaults, env: { OPS_TASKS_ENABLED: 'false', OPS_TASKS_ALLOW: '10.0.0.0/8, ::1/128' } });
  assert.is(cfg.tasks.enabled, false);
  assert.equal(cfg.tasks.allow, ['10.0.0.0/8', '::1/128']);
});

test('bad values fail with the key and the source named', () => {
  assert.throws(() => loadConfig({ defaults, env: { OPS_HTTP_PORT: 'eighty' } }), (e: Error) =>
    e instanceof ConfigError && /http\.port/.test(e.message) && /OPS_HTTP_PORT/.test(e.message));
  const file = yamlFile('http:\n  prot: 1\n');
  assert.throws(() => loadConfig({ defaults, file, env: {} }), /unknown option "http.prot"/);
  assert.throws(() => loadConfig({ defaults, file: yamlFile('http: [1, 2'), env: {} }), /parsing config file/);
  assert.throws(() => loadConfig({ defaults, env: {}, flags: { 'nope.x': 1 } }), /unknown option "nope.x"/);
});

test('a missing file is fine unless required', () => {
  assert.is(loadConfig({ defaults, file: '/nonexistent/ops.yaml', env: {} }).http.port, 8440);
  assert.throws(() => loadConfig({ defaults, file: '/nonexistent/ops.yaml', fileRequired: true, env: {} }), /reading config file/);
});

test('durations', () => {
  assert.is(parseDuration('90'), 90);
  assert.is(parseDuration('15m'), 900);
  assert.is(parseDuration('1h'), 3600);
  assert.is(parseDuration('7d'), 604800);
  assert.throws(() => parseDuration('1w'), /invalid duration/);
});

// What scripts/install.sh writes into hostd.yaml (write_config), with every optional part.
const INSTALLED_HOSTD_YAML = `# hostd configuration, written by the opsctl install script from https://manager.example:8440.
# A second install keeps this file. Every option: hostd --help (configs/hostd.yaml in opsctl).
dataDir: /opt/opsctl/data
manager:
  address: "manager.example:8441"
  caHash: "3f0a9c"
enroll:
  # Used once, at the first start; ignored once dataDir holds the identity hostd enrolled with.
  token: "tok_ABC-123"
node:
  # The name this host enrolls as (install.sh --name).
  name: "web-1"
agent:
  # The address of agentd's HTTP API (install.sh --agent-listen).
  listen: "127.0.0.1:9442"
`;

test('hostd.yaml as install.sh writes it is read without the YAML library, to what yaml reads', () => {
  const simple = parseSimpleYaml(INSTALLED_HOSTD_YAML);
  assert.ok(simple, 'the fast path takes it');
  assert.equal(simple, yamlParse(INSTALLED_HOSTD_YAML));
  const cfg = loadConfig({ defaults: { dataDir: '', manager: { address: '', caHash: '' }, enroll: { token: '' }, node: { name: '' }, agent: { listen: '' } }, file: yamlFile(INSTALLED_HOSTD_YAML), env: {} });
  assert.is(cfg.agent.listen, '127.0.0.1:9442');
  assert.is(cfg.dataDir, '/opt/opsctl/data');
});

test('the fast path gives what yaml gives, or steps aside (random files from tricky pieces)', () => {
  const keys = ['a', 'port', 'dataDir', 'null', 'True', 'x1'];
  const values = ['"a"', '"a b: c # d"', '"a\\"b"', '"it\'s"', '""', '/opt/x', '/a#b', '/', '0', '7', '007', '-1', '12345678901234567890', '1.5', '1e3', '.inf',
    'true', 'false', 'True', 'yes', 'null', '~', '{}', '[]', '{a: 1}', 'plain', '"x" # c', '"x" ', '0x1F', '0o7', '"é\t"', "'single'"];
  let seed = 42; // xorshift32: the same files on every run
  const pick = <T>(list: T[]): T => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return list[(seed >>> 0) % list.length]; };
  let taken = 0;
  for (let i = 0; i < 20_000; i++) {
    const lines: string[] = [];
    for (let j = 0, n = 1 + (i % 5); j < n; j++) {
      const shape = pick([0, 0, 1, 2, 3, 4]);
      if (shape === 0) lines.push(`${pick(keys)}: ${pick(values)}`);
      else if (shape === 1) lines.push(`${pick(keys)}:`, `  ${pick(keys)}: ${pick(values)}`);
      else if (shape === 2) lines.push(`  ${pick(keys)}: ${pick(values)}`);
      else if (shape === 3) lines.push(pick(['# c', '  # c', '', '   ', '---', '\t# t']));
      else lines.push(`${pick(keys)}:`);
    }
    const text = lines.join('\n') + pick(['\n', '', '\r\n']);
    const simple = parseSimpleYaml(text);
    if (simple === undefined) continue;
    taken++;
    assert.equal(simple, yamlParse(text), JSON.stringify(text));
  }
  assert.ok(taken > 300, `the fast path took ${taken} of 20000`);
});

test.run();
