// Runs every test file (test/**/*.test.ts) with uvu, each in its own Node process so one suite's
// open handles or crash cannot hide another's results, then prints the closing line CI reads:
// "N passed, N failed". Usage: node scripts/test.mjs [substring-filter ...]
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const filters = process.argv.slice(2);
const SUITE_TIMEOUT_MS = Number(process.env.OPS_TEST_SUITE_TIMEOUT_MS ?? 300_000);

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

for (const file of files) {
  const started = Date.now();
  const result = await new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'node_modules/uvu/bin.js', '.', relative('.', file).replace(/[.]/g, '\\.') + '$'], {
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
    const timer = setTimeout(() => { out += `\nsuite timed out after ${SUITE_TIMEOUT_MS} ms\n`; child.kill('SIGKILL'); }, SUITE_TIMEOUT_MS);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
  const total = Number(/Total:\s+(\d+)/.exec(result.out)?.[1] ?? 0);
  const ok = Number(/Passed:\s+(\d+)/.exec(result.out)?.[1] ?? 0);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(result.out)?.[1] ?? 0);
  let bad = total - ok - skipped;
  // A suite that crashed or hung before printing its totals counts as one failure.
  if (result.code !== 0 && bad === 0) bad = 1;
  passed += ok;
  failed += bad;
  if (bad > 0) failures.push(file);
  console.log(`# ${file}: ${ok} passed, ${bad} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

if (failures.length) console.log(`\nfailed suites:\n${failures.map((f) => `  ${f}`).join('\n')}`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 || files.length === 0 ? 1 : 0);
