// lib/process.ts with real processes: alive, gone, a zombie, and reading a command line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isProcessAlive, readCmdline } from '../../lib/process.js';

test('this process is alive; a pid that cannot exist and non-positive pids are not', () => {
  assert.ok(isProcessAlive(process.pid));
  assert.not.ok(isProcessAlive(999_999_999));
  // kill(0, 0) and kill(-1, 0) would "succeed": they address process groups, not a process.
  for (const pid of [0, -1, 1.5, Number.NaN]) assert.not.ok(isProcessAlive(pid), String(pid));
});

test('a child is alive while it runs and not once it has exited and been reaped', async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  assert.ok(isProcessAlive(child.pid!));
  assert.equal(readCmdline(child.pid!), ['sleep', '30']);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('close', r));
  assert.not.ok(isProcessAlive(child.pid!));
  assert.is(readCmdline(child.pid!), undefined);
});

test('a zombie (exited, not yet reaped) is not alive, though kill(pid, 0) still finds it', () => {
  const child = spawn('sh', ['-c', 'exit 0'], { stdio: 'ignore' });
  const pid = child.pid!;
  // Node reaps children from the event loop; blocking it keeps the exited child a zombie.
  const state = () => { try { const s = readFileSync(`/proc/${pid}/stat`, 'utf8'); return s[s.lastIndexOf(')') + 2]; } catch { return '?'; } };
  for (const deadline = Date.now() + 5000; state() !== 'Z' && Date.now() < deadline;) { /* spin */ }
  assert.is(state(), 'Z');
  assert.not.throws(() => process.kill(pid, 0));
  assert.not.ok(isProcessAlive(pid));
});

test.run();
