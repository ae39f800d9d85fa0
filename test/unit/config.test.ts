import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, envName, loadConfig, parseDuration } from '../../lib/config.js';

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

test.run();
