// Bundles the CLI for start-up (cli/bundled.cts loads it): dist/cli-bundle/opsctl.cjs holds every
// command, our modules, @oclif/core and its dependencies in one CommonJS file, and
// opsctl.cjs.cache the V8 code cache of a warm-up run (`nodes ls` and `tasks run` against a
// stand-in manager, every command module evaluated), so a command neither resolves ~150 files nor
// compiles what the warm-up ran. Run after `tsc` and scripts/gen-manifest.mjs (npm run build does); it reads dist/ and the
// manifest. Usage: node scripts/bundle-cli.mjs
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliDir = join(root, 'dist', 'cli');
const outDir = join(root, 'dist', 'cli-bundle');
const manifestFile = join(root, 'oclif.manifest.json');

if (!existsSync(join(cliDir, 'main.js')) || !existsSync(manifestFile)) {
  console.error('dist/cli or oclif.manifest.json is missing: run `npm run build` (tsc, then scripts/gen-manifest.mjs) first');
  process.exit(1);
}
const { BUNDLE_FILE, codeCacheFile } = await import(pathToFileURL(join(cliDir, 'bundled.cjs')).href);
const { BUNDLE_COMMANDS_TARGET } = await import(pathToFileURL(join(cliDir, 'main.js')).href);
const { writeFileAtomicSync } = await import(pathToFileURL(join(root, 'dist', 'lib', 'atomic-write.js')).href);

// The commands are the manifest's, each at the file oclif would import for it.
const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
const commands = Object.values(manifest.commands).map((c) => ({ id: c.id, file: join(root, ...c.relativePath) }));
const missing = commands.filter((c) => !existsSync(c.file));
if (commands.length === 0 || missing.length > 0) {
  console.error(`oclif.manifest.json does not match dist/cli/commands (${missing.map((c) => c.id).join(', ') || 'no commands'}): run scripts/gen-manifest.mjs`);
  process.exit(1);
}

// oclif sorts the command list with localeCompare, and ICU's collator costs ~10 ms to build on the
// first call. The bundle sorts by code point instead; for these ids (lower-case words, ':' and
// '-') the order is the same, checked here so a new id that sorts differently fails the build.
const ids = commands.map((c) => c.id);
const byCodePoint = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
if ([...ids].sort((a, b) => a.localeCompare(b)).join('\n') !== [...ids].sort(byCodePoint).join('\n')) {
  console.error('command ids sort differently by locale and by code point: drop the sort patch in scripts/bundle-cli.mjs');
  process.exit(1);
}
const OCLIF_SORT = '.sort((a, b) => a.id.localeCompare(b.id));';
const sortWithoutIcu = {
  name: 'oclif-sort-without-icu',
  setup(b) {
    b.onLoad({ filter: /@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes(OCLIF_SORT)) throw new Error(`${args.path} no longer sorts with "${OCLIF_SORT}": update scripts/bundle-cli.mjs`);
      return { contents: text.replace(OCLIF_SORT, '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));'), loader: 'js' };
    });
  },
};

// oclif loads Node modules at start that a command rarely needs: readline (for a flag read from
// standard input), perf_hooks (only with OCLIF_PERFORMANCE), child_process (only to name a Windows
// shell), and, to tell WSL from Linux in its user agent, wsl-utils with child_process and
// fs/promises again. Each is ~1-2 ms of compiling Node's own code. The bundle requires the first
// three when first used, and takes os.platform() as the platform (opsctl shows no user agent).
// A file that no longer reads as expected fails the build, like the sort patch above.
const LAZY_BUILTINS = {
  'parser/parse.js': 'const node_readline_1 = require("node:readline");',
  'performance.js': 'const node_perf_hooks_1 = require("node:perf_hooks");',
  'util/os.js': 'const node_child_process_1 = require("node:child_process");',
};
const OCLIF_PLATFORM = "return (await import('wsl-utils')).isWsl ? 'wsl' : (0, node_os_1.platform)();";
const oclifLoadsLess = {
  name: 'oclif-loads-less',
  setup(b) {
    b.onLoad({ filter: /@oclif[\\/]core[\\/]lib[\\/](parser[\\/]parse|performance|util[\\/]os)\.js$/ }, (args) => {
      const file = Object.keys(LAZY_BUILTINS).find((f) => args.path.replaceAll('\\', '/').endsWith(`/lib/${f}`));
      let text = readFileSync(args.path, 'utf8');
      const line = LAZY_BUILTINS[file];
      if (!text.includes(line)) throw new Error(`${args.path} no longer has '${line}': update scripts/bundle-cli.mjs`);
      const [, name, mod] = /const (\w+) = require\("([^"]+)"\);/.exec(line);
      text = text.replace(line, `const ${name} = new Proxy({}, { get: (_, key) => require("${mod}")[key] });`);
      if (file === 'util/os.js') {
        if (!text.includes(OCLIF_PLATFORM)) throw new Error(`${args.path} no longer has "${OCLIF_PLATFORM}": update scripts/bundle-cli.mjs`);
        text = text.replace(OCLIF_PLATFORM, 'return (0, node_os_1.platform)();');
      }
      return { contents: text, loader: 'js' };
    });
  },
};

// Each command module is evaluated when oclif first reads its class from COMMANDS, as oclif
// would import only that file: the others cost their parse, not their top level.
const entry = [
  "export { bundledMain as main } from './main.js';",
  'export const COMMANDS = {};',
  ...commands.map((c) => `Object.defineProperty(COMMANDS, ${JSON.stringify(c.id)}, { enumerable: true, get: () => require(${JSON.stringify('./' + relative(cliDir, c.file))}).default });`),
].join('\n');

const { outputFiles: [bundled] } = await build({
  stdin: { contents: entry, resolveDir: cliDir, sourcefile: 'bundle-entry.js', loader: 'js' },
  outfile: BUNDLE_FILE,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // A script compiled by vm.Script (cli/bundled.cts) has no dynamic import() in Node 20; every
  // import() left (Node's own modules, yaml, tar, oclif's) becomes require(). The ES-only ones
  // (Ink, the manager) are why `top` and `server` run unbundled.
  supported: { 'dynamic-import': false },
  // One URL for every module: the bundle's. What uses it walks up to the package root (lib/version.ts).
  define: { 'import.meta.url': '__opsBundleUrl' },
  banner: { js: "const __opsBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // Kept outside: TypeScript loaders oclif only uses in development, the ES-only UI of `top`, and
  // libraries a few commands load on demand (their require() stays lazy).
  external: ['typescript', 'ts-node', 'tsx', 'ink', 'react', 'react-devtools-core', 'yaml', 'tar', '@sinclair/typebox'],
  // Half the bytes to read and hash (~8 ms of CPU a command); names kept for errors and stack
  // traces (OPSCTL_NO_BUNDLE=1 runs the readable dist/cli).
  minify: true,
  keepNames: true,
  legalComments: 'none',
  plugins: [sortWithoutIcu, oclifLoadsLess],
  write: false,
  logLevel: 'warning',
});
// Each file is replaced whole (an opsctl starting meanwhile reads the old one or the new one); the
// code cache goes by the build's hash (cli/bundled.cts), so an old cache never meets a new bundle.
const buildId = createHash('sha256').update(bundled.contents).digest('hex').slice(0, 16);
mkdirSync(outDir, { recursive: true });
writeFileAtomicSync(BUNDLE_FILE, Buffer.concat([Buffer.from(`// opsctl bundle ${buildId}\n`), bundled.contents]), 0o644);
const cacheFile = codeCacheFile(buildId);
for (const f of readdirSync(outDir)) if (f.endsWith('.cache') && join(outDir, f) !== cacheFile) rmSync(join(outDir, f), { force: true });
// oclif's explicit command target: the COMMANDS of the bundle this process runs.
writeFileAtomicSync(join(root, BUNDLE_COMMANDS_TARGET), [
  '// oclif\'s command target for the bundled CLI (scripts/bundle-cli.mjs, cli/bundled.cts): the classes of the loaded bundle.',
  "module.exports = globalThis[Symbol.for('opsctl.cli-bundle')] ?? require('./opsctl.cjs');",
  '',
].join('\n'), 0o644);

// The warm-up: a stand-in manager, and the bundle runs `nodes ls` and `tasks run` against it in one
// process after evaluating every command module; the code cache it leaves holds every function
// compiled on the way (oclif's start, parsing, the HTTP client, the table, following a task's
// events and printing them). What it does not run is compiled when first used, as without a cache.
const WARM_TASK = {
  id: 'warm-up', status: 'running', kind: 'script', script: 'true', interpreter: 'sh', params: null, timeoutSeconds: 300, env: {},
  createdBy: 'warm-up', createdAt: new Date().toISOString(), finishedAt: null, rollout: null, queueExpiresAt: null, stopReason: null,
  template: null, schedule: null, counts: { total: 1, succeeded: 0, failed: 0, pending: 1, skipped: 0, queued: 0 },
  runs: [{ id: 'run-1', node: 'warm-up', status: 'pending', exitCode: null, error: null, startedAt: null, finishedAt: null, durationMs: null,
    output: '', outputTruncated: false, errorCode: null, result: null, wave: 0 }],
};
const WARM_EVENTS = [
  ['run', { runId: 'run-1', node: 'warm-up', status: 'dispatched' }],
  ['started', { runId: 'run-1', node: 'warm-up', at: new Date().toISOString(), pid: 1 }],
  ['output', { runId: 'run-1', node: 'warm-up', stream: 'stdout', data: 'warm\n' }],
  ['exit', { runId: 'run-1', node: 'warm-up', status: 'succeeded', exitCode: 0, durationMs: 1, error: null, errorCode: null, result: null }],
  ['done', { taskId: 'warm-up', status: 'succeeded', counts: { ...WARM_TASK.counts, succeeded: 1, pending: 0 }, stopReason: null }],
];
const envelope = (data) => JSON.stringify({ code: 0, message: 'ok', data, timestamp: new Date().toISOString() });
const standIn = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/api/v1/tasks') {
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(envelope(WARM_TASK));
  } else if (req.url?.startsWith('/api/v1/tasks/warm-up/events')) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(WARM_EVENTS.map(([type, data], i) => `id: ${i + 1}\nevent: ${type}\ndata: ${JSON.stringify({ type, ...data, seq: i + 1 })}\n\n`).join(''));
  } else {
    res.setHeader('content-type', 'application/json');
    res.end(envelope([]));
  }
});
await new Promise((resolve) => standIn.listen(0, '127.0.0.1', resolve));
const configHome = mkdtempSync(join(tmpdir(), 'opsctl-bundle-'));
const server = `http://127.0.0.1:${standIn.address().port}`;
// main() ends with process.exit: held here until both commands ran, then the cache is written.
const warmUp = `
const { loadCliBundle } = await import(${JSON.stringify(pathToFileURL(join(cliDir, 'bundled.cjs')).href)});
const { writeFileAtomicSync } = await import(${JSON.stringify(pathToFileURL(join(root, 'dist', 'lib', 'atomic-write.js')).href)});
const loaded = loadCliBundle();
if (!loaded) throw new Error('the bundle did not load');
for (const id of Object.keys(loaded.bundle.COMMANDS)) if (!loaded.bundle.COMMANDS[id]) throw new Error('no class for ' + id);
const exit = process.exit;
let failed = 0;
process.exit = (code) => { failed ||= code ?? process.exitCode ?? 0; };
await loaded.bundle.main(['nodes', 'ls', '--server', ${JSON.stringify(server)}]);
await loaded.bundle.main(['tasks', 'run', 'warm-up', '--server', ${JSON.stringify(server)}, '--', 'true']);
process.exit = exit;
if (failed) exit(failed);
writeFileAtomicSync(loaded.codeCacheFile, loaded.codeCache(), 0o644);
exit(0);
`;
let warmUpErrors = '';
try {
  const code = await new Promise((resolve, reject) => {
    // No Node or V8 flags beyond the defaults: V8 refuses a cache made under other flags.
    const child = spawn(process.execPath, ['--input-type=module', '-e', warmUp], {
      env: { ...process.env, NODE_OPTIONS: '', XDG_CONFIG_HOME: configHome, OPSCTL_TOKEN: 'warm-up', OPSCTL_SERVER: '', NO_COLOR: '1', OPSCTL_NO_BUNDLE: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // What the commands say on standard error ("task warm-up accepted ...") only matters if it failed.
    child.stderr.on('data', (d) => { warmUpErrors += d; });
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0 || !existsSync(cacheFile)) {
    console.error(`${warmUpErrors}the warm-up run failed (exit ${code})`);
    process.exit(1);
  }
} finally {
  standIn.close();
  rmSync(configHome, { recursive: true, force: true });
}
const kb = (f) => `${(statSync(f).size / 1024).toFixed(0)} KB`;
console.error(`wrote ${relative(root, BUNDLE_FILE)} (${commands.length} commands, ${kb(BUNDLE_FILE)}) and its code cache (${kb(cacheFile)})`);
