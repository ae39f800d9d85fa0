// proto/agent-keys-file.ts, both sides on real files: hostd's writer, agentd's reader and checks,
// and that what the writer leaves is what the reader accepts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureHostdKey, HOSTD_KEY_ID, KeysFileError, readKeysFile } from '../../proto/agent-keys-file.js';

const root = mkdtempSync(join(tmpdir(), 'ops-keys-file-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => { const d = join(root, `d${++n}`); mkdirSync(d); return d; };

test('writer: created once with mode 0600, reused, other keys kept, the mode put back', () => {
  const dir = freshDir();
  const file = join(dir, 'agent-keys.json');
  const secret = ensureHostdKey(file);
  assert.match(secret, /^[0-9a-f]{64}$/);
  assert.is(statSync(file).mode & 0o777, 0o600);
  assert.is(ensureHostdKey(file), secret);
  chmodSync(file, 0o644);
  assert.is(ensureHostdKey(file), secret);
  assert.is(statSync(file).mode & 0o777, 0o600, 'a reused file is made private again');
  writeFileSync(file, JSON.stringify({ keys: { opsctl: 'o'.repeat(40) } }));
  chmodSync(file, 0o644);
  const added = ensureHostdKey(file);
  assert.is.not(added, secret);
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { keys: Record<string, string> };
  assert.equal(saved.keys, { opsctl: 'o'.repeat(40), [HOSTD_KEY_ID]: added });
  assert.is(statSync(file).mode & 0o777, 0o600);
  assert.equal(readdirSync(dir), ['agent-keys.json'], 'no temporary file left');
});

test('writer: an unusable hostd key is replaced; a file agentd would refuse is reported, not rewritten', () => {
  const file = join(freshDir(), 'agent-keys.json');
  writeFileSync(file, JSON.stringify({ keys: { hostd: 'short', opsctl: 'o'.repeat(40) } }), { mode: 0o600 });
  const secret = ensureHostdKey(file);
  assert.match(secret, /^[0-9a-f]{64}$/);
  assert.equal(readKeysFile(file).keys, new Map([['opsctl', 'o'.repeat(40)], ['hostd', secret]]));
  const cases: [string, RegExp][] = [
    ['{broken', /parsing keys file/],
    ['{"keys": []}', /must hold \{"keys"/],
    ['[]', /must hold \{"keys"/],
    ['{"keys": {"opsctl": "too short"}}', /key "opsctl" must be a string of at least 32 characters/],
    ['{"keys": {"opsctl": 12}}', /key "opsctl" must be a string/],
  ];
  for (const [text, message] of cases) {
    writeFileSync(file, text);
    assert.throws(() => ensureHostdKey(file), (e: Error) => e instanceof KeysFileError && message.test(e.message), text);
    assert.is(readFileSync(file, 'utf8'), text, 'left for the operator to fix');
  }
  const folder = join(freshDir(), 'is-a-folder');
  mkdirSync(folder);
  assert.throws(() => ensureHostdKey(folder), /reading keys file/);
});

test('reader: accepts what the writer wrote', () => {
  const file = join(freshDir(), 'agent-keys.json');
  const secret = ensureHostdKey(file);
  const { keys, stat } = readKeysFile(file);
  assert.equal(keys, new Map([[HOSTD_KEY_ID, secret]]));
  assert.ok(stat.isFile());
});

test('reader: mode 0644 and 0640 refused, malformed content refused with the reason', () => {
  const dir = freshDir();
  const path = join(dir, 'agent-keys.json');
  writeFileSync(path, JSON.stringify({ keys: { hostd: 'k'.repeat(64) } }), { mode: 0o600 });
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

test.run();
