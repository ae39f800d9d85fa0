// `npm run package`: builds the host bundle, dist-package/opsctl-host-<version>-<platform>-<arch>.tar.gz
// (format: docs/host-bundle.md, proto/host-bundle.ts). hostd and agentd are each bundled by esbuild
// into one ESM file, so a host loads two files instead of ~1,000 modules from node_modules and
// needs no npm install. Run after the build (the entry points are bin/*.js, which load dist/).
// Usage: node dist/scripts/package.js [--out-dir dist-package] [--no-minify]
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { create as createTar } from 'tar';
import { buildManifest, bundleFileName, MANIFEST_FILE, type BundleManifest } from '../proto/host-bundle.js';
import { packageRoot } from '../lib/version.js';

/**
 * Left out of the bundles, loaded only on paths the daemons never take. proto-loader (with protobufjs'
 * parser): the host link's messages are static code (proto/hostlink.ts), and no daemon loads grpc-js
 * (hostd has its own HTTP/2 client, hostd/grpc-h2-client.ts); only types are imported from it. systeminformation: hostd reads Linux's facts from
 * /proc (hostd/facts.ts) and loads it only elsewhere, so a bundle for Linux need not carry it (a bundle
 * is for one platform: its name says which).
 */
const NOT_BUNDLED = ['@grpc/proto-loader', ...(process.platform === 'linux' ? ['systeminformation'] : [])];

/**
 * Bundled CommonJS dependencies (pino, systeminformation, …) call require() for Node's own
 * modules, which an ESM file lacks; this gives them one.
 */
const ESM_REQUIRE_BANNER = [
  "import { createRequire as __opsCreateRequire } from 'node:module';",
  'const require = __opsCreateRequire(import.meta.url);',
].join('\n');

export interface HostBundleOptions {
  outDir: string;
  minify: boolean;
  /** The version to compile in and name the bundle by; default package.json's (tests build others). */
  version?: string;
  /** Changes the staged files before the manifest is written (tests craft broken bundles with it). */
  patch?: (stageDir: string) => void;
}

/** Bundle files copied as they are, from the package root: path in the package → path in the bundle. */
const COPIED_FILES: Record<string, string> = {
  // The launcher the install script puts in PREFIX/bin (outside versions/): it reverts a new hostd
  // that cannot stay up, so it must not be part of what it judges.
  'scripts/hostd-launch.sh': 'hostd-launch.sh',
};

export interface HostBundle {
  file: string;
  manifest: BundleManifest;
}

export async function buildHostBundle(opts: HostBundleOptions): Promise<HostBundle> {
  const root = packageRoot();
  const version = opts.version ?? (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  mkdirSync(opts.outDir, { recursive: true });
  const stage = mkdtempSync(join(opts.outDir, '.stage-'));
  try {
    await build({
      entryPoints: { hostd: join(root, 'bin', 'hostd.js'), agentd: join(root, 'bin', 'agentd.js') },
      outdir: stage,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      minify: opts.minify,
      // Names survive minifying: error classes are told apart by name, and stack traces stay readable.
      keepNames: true,
      legalComments: 'none',
      define: { OPS_BUNDLE_VERSION: JSON.stringify(version) },
      external: NOT_BUNDLED,
      banner: { js: ESM_REQUIRE_BANNER },
      logLevel: 'warning',
    });
    for (const [from, to] of Object.entries(COPIED_FILES)) copyFileSync(join(root, from), join(stage, to));
    opts.patch?.(stage);
    const paths = ['hostd.mjs', 'agentd.mjs', ...Object.values(COPIED_FILES)];
    const manifest = buildManifest(stage, paths, {
      version, platform: process.platform, arch: process.arch, node: '>=20', createdAt: new Date().toISOString(),
    });
    writeFileSync(join(stage, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
    const file = join(opts.outDir, bundleFileName(version, process.platform, process.arch));
    // portable: no owner names or ids from this machine; the files sit at the archive's root.
    await createTar({ gzip: true, file, cwd: stage, portable: true }, [MANIFEST_FILE, ...paths]);
    return { file, manifest };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    'out-dir': { type: 'string', default: 'dist-package' },
    'no-minify': { type: 'boolean', default: false },
  } });
  const { file, manifest } = await buildHostBundle({ outDir: resolve(values['out-dir']!), minify: !values['no-minify'] });
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;
  for (const f of manifest.files) console.log(`  ${f.path.padEnd(36)} ${kb(f.size).padStart(8)}  ${f.sha256.slice(0, 16)}…`);
  console.log(`${relative(process.cwd(), file)}  ${kb(statSync(file).size)}`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  await main();
}
