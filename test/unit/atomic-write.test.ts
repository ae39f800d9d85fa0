// lib/atomic-write.ts against real files: exact modes whatever the umask, no temporary file left
// behind, the old content kept when the write fails, and a reader never seeing half a file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileOnceSync, writeFileAtomic, writeFileAtomicSync } from '../../lib/atomic-write.js';

const root = mkdtempSync(join(tmpdir(), 'ops-atomic-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => { const d = join(root, `d${++n}`); mkdirSync(d); return d; };

function withUmask<T>(mask: number, fn: () => T): T {
  const old = process.umask(mask);
  try { return fn(); } finally { process.umask(old); }
}

test('sync: writes the content with exactly the mode asked for, whatever the umask', () => {
  const dir = freshDir();
  const file = join(dir, 'f');
  withUmask(0o077, () => writeFileAtomicSync(file, 'public\n', 0o644));
  assert.is(readFileSync(file, 'utf8'), 'public\n');
  assert.is(statSync(file).mode & 0o777, 0o644);
  withUmask(0o022, () => writeFileAtomicSync(file, Buffer.from('secret\n'), 0o600));
  assert.is(readFileSync(file, 'utf8'), 'secret\n');
  assert.is(statSync(file).mode & 0o777, 0o600, 'the mode of the new file, not the old one');
  assert.equal(readdirSync(dir), ['f'], 'no temporary file left');
});

test('create once: writes a missing file whole with its mode; an existing one is kept, no temporary file left', () => {
  const dir = freshDir();
  const file = join(dir, 'secret');
  assert.ok(withUmask(0o022, () => createFileOnceSync(file, 'first\n', 0o600)));
  assert.is(statSync(file).mode & 0o777, 0o600);
  assert.not.ok(createFileOnceSync(file, 'second\n', 0o600));
  assert.is(readFileSync(file, 'utf8'), 'first\n');
  assert.equal(readdirSync(dir), ['secret']);
});

test('sync: a failed write leaves the target as it was and no temporary file', () => {
  const dir = freshDir();
  const target = join(dir, 'target');
  mkdirSync(target);
  writeFileSync(join(target, 'inside'), 'x');
  // rename(2) cannot replace a non-empty directory with a file: the last step fails.
  assert.throws(() => writeFileAtomicSync(target, 'new', 0o600), /EISDIR|ENOTEMPTY|EEXIST/);
  assert.equal(readdirSync(dir), ['target']);
  assert.equal(readdirSync(target), ['inside']);
  assert.throws(() => writeFileAtomicSync(join(dir, 'missing', 'f'), 'x', 0o600), /ENOENT/);
  assert.equal(readdirSync(dir), ['target']);
});

test('async: the same, and concurrent writes to one file do not collide', async () => {
  const dir = freshDir();
  const file = join(dir, 'config.yaml');
  const umask = process.umask(0o077);
  try { await writeFileAtomic(file, 'a: 1\n', 0o640); } finally { process.umask(umask); }
  assert.is(readFileSync(file, 'utf8'), 'a: 1\n');
  assert.is(statSync(file).mode & 0o777, 0o640);
  const contents = Array.from({ length: 10 }, (_, i) => `n: ${i}\n`);
  await Promise.all(contents.map((c) => writeFileAtomic(file, c, 0o600)));
  assert.ok(contents.includes(readFileSync(file, 'utf8')), 'one whole version wins');
  assert.equal(readdirSync(dir), ['config.yaml'], 'no temporary file left');
  const target = join(dir, 'busy');
  mkdirSync(target);
  writeFileSync(join(target, 'inside'), 'x');
  await writeFileAtomic(target, 'new', 0o600).then(() => assert.unreachable('written'), (err: Error) => assert.match(err.message, /EISDIR|ENOTEMPTY|EEXIST/));
  assert.equal(readdirSync(dir).sort(), ['busy', 'config.yaml']);
});

test('a reader in another process sees the old content or the new, never a mix or a short file', async () => {
  const dir = freshDir();
  const file = join(dir, 'big');
  const a = 'a'.repeat(1 << 20);
  const b = 'b'.repeat(1 << 20);
  writeFileAtomicSync(file, a, 0o644);
  const reader = spawn(process.execPath, ['-e', `
    const { readFileSync } = require('node:fs');
    let bad = 0, reads = 0, changes = 0, last = '';
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      const t = readFileSync(${JSON.stringify(file)}, 'latin1');
      reads++;
      const whole = t.length === ${1 << 20} && (t === 'a'.repeat(t.length) || t === 'b'.repeat(t.length));
      if (!whole) bad++;
      if (t[0] !== last) { changes++; last = t[0]; }
    }
    process.stdout.write(JSON.stringify({ bad, reads, changes }));
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  reader.stdout.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => reader.on('close', resolve));
  let running = true;
  void exited.then(() => { running = false; });
  for (let i = 0; running; i++) {
    writeFileAtomicSync(file, i % 2 ? a : b, 0o644);
    await new Promise((r) => setImmediate(r));
  }
  const result = JSON.parse(out) as { bad: number; reads: number; changes: number };
  assert.is(result.bad, 0, `${result.bad} of ${result.reads} reads saw a partial file`);
  assert.ok(result.changes > 1, 'the reader saw the file change');
  assert.equal(readdirSync(dir), ['big']);
});

test.run();
