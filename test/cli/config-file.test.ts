// The opsctl config file: what login writes reads back the same through the fast path and YAML.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { configPath, normaliseServer, parseFlatMapping, readCliConfig, resolveConnection, writeCliConfig } from '../../cli/lib/config-file.js';

const dir = mkdtempSync(join(tmpdir(), 'opsctl-cfg-'));
const env = { XDG_CONFIG_HOME: dir } as NodeJS.ProcessEnv;
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('a written config reads back identically through the fast path and the YAML parser', async () => {
  const config = { server: 'https://ops.example.com:8440', token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc-_DEF', user: 'deploy.bot@example' };
  await writeCliConfig(config, env);
  const text = readFileSync(configPath(env), 'utf8');
  assert.equal(parseFlatMapping(text), config);
  assert.equal(parse(text), config);
  assert.equal(await readCliConfig(env), config);
});

test('anything beyond plain key: value lines is left to the YAML parser', () => {
  assert.is(parseFlatMapping('server: "http://x"\n'), undefined);
  assert.is(parseFlatMapping('server: http://x # comment\n'), undefined);
  assert.is(parseFlatMapping('server:\n  nested: 1\n'), undefined);
  assert.is(parseFlatMapping('user: -dash\n'), undefined);
  assert.is(parseFlatMapping('user: a\nuser: b\n'), undefined, 'duplicate keys');
  assert.equal(parseFlatMapping('# only a comment\n\n'), {});
});

test('precedence: --server > $OPSCTL_SERVER > file > default; $OPSCTL_TOKEN > file', async () => {
  await writeCliConfig({ server: 'http://file:1', token: 'file-token', user: 'u' }, env);
  assert.equal(await resolveConnection(undefined, env), { server: 'http://file:1', token: 'file-token', user: 'u' });
  const withEnv = { ...env, OPSCTL_SERVER: 'http://env:2', OPSCTL_TOKEN: 'env-token' };
  assert.equal(await resolveConnection(undefined, withEnv), { server: 'http://env:2', token: 'env-token', user: 'u' });
  assert.is((await resolveConnection('flag:3', withEnv)).server, 'http://flag:3');
  const empty = { XDG_CONFIG_HOME: join(dir, 'none') } as NodeJS.ProcessEnv;
  assert.equal(await resolveConnection(undefined, empty), { server: 'http://127.0.0.1:8440', token: undefined, user: undefined });
});

test('server addresses are normalised and checked', () => {
  assert.is(normaliseServer('http://h:1/', 'x'), 'http://h:1');
  assert.is(normaliseServer('h:1', 'x'), 'http://h:1');
  assert.is(normaliseServer('https://h/ops/', 'x'), 'https://h/ops');
  assert.throws(() => normaliseServer('ftp://h', '--server'), /only http:\/\/ and https:\/\//);
  assert.throws(() => normaliseServer('http://', '--server'), /invalid manager address/);
});

test.run();
