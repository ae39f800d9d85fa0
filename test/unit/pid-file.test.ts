// proto/pid-file.ts, both sides on real files: what agentd writes is what hostd reads, the writer
// refuses a file naming another live process, and removes only its own.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatPid, livePidInFile, parsePid, PidFile, readPidFile, writePidFile } from '../../proto/pid-file.js';

const dir = mkdtempSync(join(tmpdir(), 'ops-pid-file-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('format: the pid in decimal and a newline; the reader wants exactly one positive number', () => {
  assert.is(formatPid(4242), '4242\n');
  assert.is(parsePid(formatPid(4242)), 4242);
  assert.is(parsePid(' 17 '), 17);
  for (const text of ['', '\n', '0', '-5', '1e3', '0x10', '12abc', '12 13', '1.5', 'not a pid', '99999999999999999999']) {
    assert.is(parsePid(text), undefined, JSON.stringify(text));
  }
});

test('the written file is read back, mode 0644 whatever the umask, with nothing else left in the folder', () => {
  const sub = mkdtempSync(join(dir, 'w-'));
  const path = join(sub, 'agentd.pid');
  const umask = process.umask(0o077);
  try { writePidFile(path, 4242); } finally { process.umask(umask); }
  assert.is(readFileSync(path, 'utf8'), '4242\n');
  assert.is(statSync(path).mode & 0o777, 0o644);
  assert.is(readPidFile(path), 4242);
  assert.equal(readdirSync(sub), ['agentd.pid']);
  assert.is(readPidFile(join(sub, 'absent.pid')), undefined);
  assert.is(readPidFile(sub), undefined, 'a folder is no pid file');
});

test('livePidInFile: a live process other than the caller', () => {
  const path = join(dir, 'live.pid');
  writePidFile(path, process.pid);
  assert.is(livePidInFile(path, process.pid + 1_000_000), process.pid);
  assert.is(livePidInFile(path), undefined, 'the caller itself is not a rival');
  writePidFile(path, 999_999_999);
  assert.is(livePidInFile(path), undefined, 'a dead process');
});

test('PidFile: written, refused when another live process owns it, removed only if still ours', async () => {
  const path = join(dir, 'x.pid');
  const mine = new PidFile(path);
  await mine.start();
  assert.is(readFileSync(path, 'utf8'), `${process.pid}\n`);
  // This process is alive and, for a PidFile with another pid, someone else: it must refuse.
  const rival = new PidFile(path, process.pid + 1_000_000);
  await rival.start().then(() => assert.unreachable('started'), (e: Error) => assert.match(e.message, new RegExp(`names process ${process.pid}, which is still running`)));
  await mine.stop();
  assert.not.ok(existsSync(path));
  writeFileSync(path, '999999999\n'); // a pid that cannot be alive
  await mine.start();
  writeFileSync(path, '12345\n'); // a successor took over
  await mine.stop();
  assert.ok(existsSync(path), 'someone else\'s pid file is left alone');
  writeFileSync(path, 'not a pid');
  await mine.start();
  assert.is(readPidFile(path), process.pid);
  await mine.stop();
  assert.not.ok(existsSync(path));
});

test.run();
