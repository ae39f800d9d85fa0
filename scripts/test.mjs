// Runs every test file (test/**/*.test.ts) with uvu, each in its own Node process so one suite's
// open handles or crash cannot hide another's results, then prints the closing line CI reads:
// "N passed, N failed". Usage: node scripts/test.mjs [substring-filter ...]
//
// Suites run one after the other, except those in CONCURRENT: suites that spend minutes waiting on
// the clock (a cron's due minutes) with little CPU, which would otherwise add their whole length to
// CI's time. They start first and run alongside the sequential ones; their output is kept and
// printed whole between two sequential suites (never inside one), and their results count the same.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const filters = process.argv.slice(2);
const SUITE_TIMEOUT_MS = Number(process.env.OPS_TEST_SUITE_TIMEOUT_MS ?? 300_000);
/** Suites run alongside the others → their own time limit (they are long by design). */
const CONCURRENT = new Map([
  ['test/cluster/schedule-failover.test.ts', 480_000],
]);

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return find(p);
    return p.endsWith('.test.ts') ? [p] : [];
  });
}

const files = find('test').sort().filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
let passed = 0;
let failed = 0;
const failures = [];

/** Runs one suite; its output goes to `write` as it comes (both streams when `captureStderr`). */
function runSuite(file, timeoutMs, write, captureStderr) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'node_modules/uvu/bin.js', '.', relative('.', file).replace(/[.]/g, '\\.') + '$'], {
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', captureStderr ? 'pipe' : 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; write(d); });
    child.stderr?.on('data', (d) => write(d));
    const timer = setTimeout(() => { out += `\nsuite timed out after ${timeoutMs} ms\n`; child.kill('SIGKILL'); }, timeoutMs);
    child.on('close', (code) => { clearTimeout(timer); resolve({ file, code, out, seconds: (Date.now() - started) / 1000 }); });
  });
}

function count({ file, code, out, seconds }) {
  const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const ok = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(out)?.[1] ?? 0);
  let bad = total - ok - skipped;
  // A suite that crashed or hung before printing its totals counts as one failure.
  if (code !== 0 && bad === 0) bad = 1;
  passed += ok;
  failed += bad;
  if (bad > 0) failures.push(file);
  return `# ${file}: ${ok} passed, ${bad} failed (${seconds.toFixed(1)} s)`;
}

// The concurrent ones first, output kept; each is printed at the first gap between sequential suites
// after it ends (or as it comes when no sequential suite was chosen: nothing to interleave with).
const sequential = files.filter((f) => !CONCURRENT.has(f));
const finished = [];
const concurrent = files.filter((f) => CONCURRENT.has(f)).map((file) => {
  let kept = '';
  const write = sequential.length ? (d) => { kept += d; } : (d) => process.stdout.write(d);
  return runSuite(file, CONCURRENT.get(file), write, sequential.length > 0).then((result) => { finished.push({ result, kept }); });
});
const flush = () => {
  for (const { result, kept } of finished.splice(0)) {
    if (kept) process.stdout.write(`## ${result.file} (ran alongside the others)\n${kept}${kept.endsWith('\n') ? '' : '\n'}`);
    console.log(count(result));
  }
};

for (const file of sequential) {
  const result = await runSuite(file, SUITE_TIMEOUT_MS, (d) => process.stdout.write(d), false);
  console.log(count(result));
  flush();
}
await Promise.all(concurrent);
flush();

if (failures.length) console.log(`\nfailed suites:\n${failures.map((f) => `  ${f}`).join('\n')}`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 || files.length === 0 ? 1 : 0);
