// The bundled CLI (scripts/bundle-cli.mjs): the whole of opsctl's CLI with @oclif/core and its
// dependencies in one CommonJS file, dist/cli-bundle/opsctl.cjs, compiled here with the V8 code
// cache the build wrote beside it. Most of a command's start-up was Node resolving, reading and
// compiling oclif's ~110 files and our ~40 modules; one file read, with its functions already
// compiled, is about half of that (docs/architecture.md, "How opsctl starts fast").
// bin/opsctl.cjs uses it when it exists and is newer than the tsc output; otherwise (a bundle older
// than the last `tsc`, OPSCTL_NO_BUNDLE set, or `top` and `server`, below) dist/cli/main.js as before.
// CommonJS, like bin/opsctl.cjs: an ES module entry and its imports cost Node's ES module loader
// ~20 ms of CPU before the first line of a command runs.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

/** The package root, from cli/ (sources under tsx) or dist/cli/ (lib/version.ts's packageRoot is an ES module). */
export function cliPackageRoot(from: string = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json')) || dir.endsWith('/dist')) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('opsctl package root not found');
    dir = parent;
  }
  return dir;
}

const root = cliPackageRoot();
export const BUNDLE_FILE = join(root, 'dist', 'cli-bundle', 'opsctl.cjs');
/**
 * The bundle's first line names its build: `// opsctl bundle <sha256 prefix>`. Its code cache is
 * named after it, since V8 checks only a cache's source length and flags, and a cache made for
 * other code of the same length would be taken for this one's.
 */
const BUILD_LINE = /^\/\/ opsctl bundle ([0-9a-f]{16,64})\n/;
export function codeCacheFile(build: string): string {
  return `${BUNDLE_FILE}.${build}.cache`;
}
/** Written by every `tsc` run: a bundle older than it may not hold the code tsc just built. */
const TSC_OUTPUT = join(root, 'dist', 'cli', 'main.js');
/** How commands.cjs (oclif's explicit command target) finds the bundle this process loaded. */
const LOADED = Symbol.for('opsctl.cli-bundle');

/** What the bundle exports (the stdin entry of scripts/bundle-cli.mjs). */
export interface CliBundle {
  main(argv: string[]): Promise<never>;
  /** Command id → command class, each module evaluated on first access. */
  COMMANDS: Record<string, unknown>;
}

export interface LoadedBundle {
  bundle: CliBundle;
  /** The code cache as it stands now, with every function compiled so far (the build's warm-up writes it). */
  codeCache(): Buffer;
  /** Where this bundle's code cache belongs. */
  codeCacheFile: string;
  /** False when V8 refused the cache file (another Node version or V8 flags): the bundle still runs. */
  cacheAccepted: boolean;
}

/**
 * Whether `argv` (as bin/opsctl.cjs gets it) may run from the bundle: not `top` (Ink) nor `server`
 * (the manager, dist/server/main.js), which load ES-only modules at run time, and a CommonJS file
 * cannot import those in Node 20. `server status` and the other commands can.
 */
export function bundleCanRun(argv: string[], env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OPSCTL_NO_BUNDLE) return false;
  // `opsctl --inventory FILE ...` (cli/main.ts moves it to the environment): the command follows.
  const [first, second] = argv[0] === '--inventory' ? argv.slice(2) : argv[0]?.startsWith('--inventory=') ? argv.slice(1) : argv;
  if (first === 'top') return false;
  return !(first === 'server' && (second === undefined || second.startsWith('-')));
}

/** Whether the bundle exists and was built after the last `tsc` (npm run build makes both). */
export function bundleIsCurrent(): boolean {
  try {
    return statSync(BUNDLE_FILE).mtimeMs >= statSync(TSC_OUTPUT).mtimeMs;
  } catch {
    return false;
  }
}

/** The bundle, compiled and run once; undefined when there is none or it is older than the tsc output. */
export function loadCliBundle(): LoadedBundle | undefined {
  if (!bundleIsCurrent()) return undefined;
  let source: string;
  try {
    source = readFileSync(BUNDLE_FILE, 'utf8');
  } catch {
    return undefined;
  }
  const build = BUILD_LINE.exec(source)?.[1];
  if (build === undefined) return undefined;
  const cacheFile = codeCacheFile(build);
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // No cache (the build's warm-up has not written it yet): V8 compiles as it goes.
  }
  // The wrapper Node puts around a CommonJS file, so the bundle runs as if require()d.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: BUNDLE_FILE, cachedData });
  const module = { exports: {} as CliBundle };
  (script.runInThisContext() as (...args: unknown[]) => void)
    .call(module.exports, module.exports, createRequire(BUNDLE_FILE), module, BUNDLE_FILE, dirname(BUNDLE_FILE));
  (globalThis as Record<symbol, unknown>)[LOADED] = module.exports;
  return { bundle: module.exports, codeCache: () => script.createCachedData(), codeCacheFile: cacheFile, cacheAccepted: cachedData !== undefined && !script.cachedDataRejected };
}
