// Runs every test file (test/**/*.test.ts) with uvu, each in its own Node process so one suite's
// open handles or crash cannot hide another's results, then prints the closing line CI reads:
// "N passed, N failed". Usage: node scripts/test.mjs [substring-filter ...]
//
// Suites run in OPS_TEST_LANES lanes at once (default 2; 1 runs them one after the other with
// their output as it comes). Most suites wait on processes, sockets and timers more than they
// compute, so two lanes on two cores take about half as long. Each lane takes the longest suite
// left (EXPECTED_SECONDS, else a default), so the long ones do not end up last in one lane. Suites
// share nothing that would make them collide: each picks free ports, its own temp folders, its own
// scratch MySQL database and its own Redis key prefix; each lane draws its ports from its own slice
// (OPS_TEST_PORT_RANGE, read by test/helpers/ports.ts). A suite's output is printed whole when it
// ends, never mixed with another's; a failed suite's last lines are printed again at the end, so
// the tail of a CI log says why.
//
// Suites in CONCURRENT spend minutes waiting on the clock (a cron's due minutes) with little CPU:
// they start first, outside the lanes, with their own time limit, and count the same.
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
const LANES = Math.max(1, Number(process.env.OPS_TEST_LANES ?? 2));
/**
 * How long the longest suites took in a CI run (s), so the lanes start them first; the rest count as
 * DEFAULT_SECONDS. Only the order depends on these: update them when the closing list shows others.
 */
const EXPECTED_SECONDS = new Map([
  ['test/hostd/update.test.ts', 157], ['test/e2e/web.test.ts', 145], ['test/cluster/replicas.test.ts', 80],
  ['test/server/schedules.test.ts', 73], ['test/e2e/release-rollout.test.ts', 66], ['test/cluster/failover.test.ts', 60],
]);
const DEFAULT_SECONDS = 15;
let passed = 0;
let failed = 0;
const failures = [];
const durations = [];

/** The ports a lane's suites draw from (slot LANES is the concurrent suites'): disjoint slices of 10000–32767. */
function portRange(slot) {
  const size = Math.floor((32_767 - 10_000 + 1) / (LANES + 1));
  return `${10_000 + slot * size}-${10_000 + (slot + 1) * size - 1}`;
}

/**
 * Runs one suite; its output goes to `write` as it comes (both streams when `captureStderr`).
 * `out` is its standard output (where the totals are), `both` what it printed on both streams.
 */
function runSuite(file, timeoutMs, write, captureStderr, slot) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'node_modules/uvu/bin.js', '.', relative('.', file).replace(/[.]/g, '\\.') + '$'], {
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', OPS_TEST_PORT_RANGE: portRange(slot) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let both = '';
    child.stdout.on('data', (d) => { out += d; both += d; write(d); });
    child.stderr.on('data', (d) => { both += d; if (captureStderr) write(d); else process.stderr.write(d); });
    const timer = setTimeout(() => { out += `\nsuite timed out after ${timeoutMs} ms\n`; both += `\nsuite timed out after ${timeoutMs} ms\n`; child.kill('SIGKILL'); }, timeoutMs);
    child.on('close', (code) => { clearTimeout(timer); resolve({ file, code, out, both, seconds: (Date.now() - started) / 1000 }); });
  });
}

function count({ file, code, out, both, seconds }) {
  const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const ok = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(out)?.[1] ?? 0);
  let bad = total - ok - skipped;
  // A suite that crashed or hung before printing its totals counts as one failure.
  if (code !== 0 && bad === 0) bad = 1;
  passed += ok;
  failed += bad;
  if (bad > 0) failures.push({ file, both });
  durations.push({ file, seconds });
  return `# ${file}: ${ok} passed, ${bad} failed (${seconds.toFixed(1)} s)`;
}

// The concurrent ones first, output kept and printed whole once each ends (between two suites).
const expected = (f) => EXPECTED_SECONDS.get(f) ?? DEFAULT_SECONDS;
const queue = files.filter((f) => !CONCURRENT.has(f)).sort((a, b) => expected(b) - expected(a));
const streaming = LANES === 1 || queue.length <= 1;
// While a lane streams its suite's output, one that ended alongside waits for that suite to end.
const held = [];
const concurrent = files.filter((f) => CONCURRENT.has(f)).map((file) => {
  let kept = '';
  const keep = queue.length ? (d) => { kept += d; } : (d) => process.stdout.write(d);
  return runSuite(file, CONCURRENT.get(file), keep, queue.length > 0, LANES).then((result) => {
    if (streaming && queue.length + running > 0) held.push([result, kept]);
    else report(result, kept, ' (ran alongside the others)');
  });
});
const reportHeld = () => { for (const [result, kept] of held.splice(0)) report(result, kept, ' (ran alongside the others)'); };

/** Prints a suite's kept output (if any) and its result line, all at once. */
function report(result, kept, note = '') {
  if (kept) process.stdout.write(`## ${result.file}${note}\n${kept}${kept.endsWith('\n') ? '' : '\n'}`);
  console.log(count(result));
}

let running = 0;
async function lane(slot) {
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    let kept = '';
    const write = streaming ? (d) => process.stdout.write(d) : (d) => { kept += d; };
    running++;
    const result = await runSuite(file, SUITE_TIMEOUT_MS, write, !streaming, slot);
    running--;
    report(result, kept);
    reportHeld();
  }
}
await Promise.all([...Array.from({ length: Math.min(LANES, Math.max(1, queue.length)) }, (_, slot) => lane(slot)), ...concurrent]);
reportHeld();

if (durations.length > 1) {
  const longest = durations.sort((a, b) => b.seconds - a.seconds).slice(0, 8);
  console.log(`\nlongest suites: ${longest.map((d) => `${d.file.replace(/^test\//, '').replace(/\.test\.ts$/, '')} ${Math.round(d.seconds)} s`).join(', ')}`);
}
/** Lines kept from the end of a failed suite's output when it is printed again. */
const FAILED_TAIL_LINES = 200;
for (const { file, both } of failures) {
  const lines = both.trimEnd().split('\n');
  const cut = lines.length > FAILED_TAIL_LINES ? `(its last ${FAILED_TAIL_LINES} of ${lines.length} lines)` : '';
  console.log(`\n## failed: ${file} ${cut}\n${lines.slice(-FAILED_TAIL_LINES).join('\n')}`);
}
if (failures.length) console.log(`\nfailed suites:\n${failures.map((f) => `  ${f.file}`).join('\n')}`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 || files.length === 0 ? 1 : 0);
