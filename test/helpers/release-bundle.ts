// Host bundles for release tests: a small one laid out as npm run package makes one (manifest.json
// at the root listing the other files with their hashes), or without manifest.json; and real ones
// built by scripts/package.ts at any version, some crafted to fail.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { create as tarCreate } from 'tar';
import { buildManifest, MANIFEST_FILE } from '../../proto/host-bundle.js';
import { buildHostBundle } from '../../scripts/package.js';

/** Writes DIR/NAME (a .tar.gz) for `version` on linux-x64, with `padding` bytes of filler; returns its path. */
export async function makeBundle(dir: string, version: string, name: string, opts: { manifest?: boolean; padding?: number } = {}): Promise<string> {
  const src = mkdtempSync(join(dir, 'bundle-src-'));
  writeFileSync(join(src, 'hostd.mjs'), `export const version = ${JSON.stringify(version)};\n// ${'x'.repeat(opts.padding ?? 0)}\n`);
  const files = ['hostd.mjs'];
  if (opts.manifest ?? true) {
    const manifest = buildManifest(src, files, { version, platform: 'linux', arch: 'x64', node: '>=20', createdAt: new Date().toISOString() });
    writeFileSync(join(src, MANIFEST_FILE), JSON.stringify(manifest));
    files.push(MANIFEST_FILE);
  }
  const file = join(dir, name);
  await tarCreate({ gzip: true, file, cwd: src }, files);
  return file;
}

/** A real host bundle (scripts/package.ts) of one version, and its bytes. */
export interface Bundle { version: string; file: string; data: Buffer }

/** Crafted failures, each patched into a real build of its version. */
export type BundleFault = 'exits-at-once' | 'crashes-later' | 'agent-never-healthy' | 'hangs';

/** Builds the real host bundle of `version` into OUTDIR/VERSION/ (needs dist/), with `fault` patched in. */
export async function buildBundle(outDir: string, version: string, fault?: BundleFault): Promise<Bundle> {
  const { file } = await buildHostBundle({
    outDir: join(outDir, version), minify: true, version,
    patch: (stage) => {
      const hostd = join(stage, 'hostd.mjs');
      if (fault === 'exits-at-once') writeFileSync(hostd, '#!/usr/bin/env node\nprocess.exit(3);\n');
      if (fault === 'hangs') writeFileSync(hostd, '#!/usr/bin/env node\nsetInterval(() => {}, 1 << 30);\n');
      if (fault === 'crashes-later') {
        // The real hostd, which crashes after OPS_TEST_CRASH_AFTER_MS (20 s unless the test says),
        // noting when in OPS_TEST_CRASH_MARK (the bundle's banner defines require by then).
        const crash = 'setTimeout(() => { const f = process.env.OPS_TEST_CRASH_MARK; if (f) require("node:fs").writeFileSync(f, String(Date.now())); process.exit(70); }, Number(process.env.OPS_TEST_CRASH_AFTER_MS || 20000));';
        const [shebang, ...rest] = readFileSync(hostd, 'utf8').split('\n');
        writeFileSync(hostd, [shebang, crash, ...rest].join('\n'));
      }
      // Runs, but never reports to hostd: never healthy.
      if (fault === 'agent-never-healthy') writeFileSync(join(stage, 'agentd.mjs'), 'setInterval(() => {}, 1 << 30);\n');
    },
  });
  return { version, file, data: readFileSync(file) };
}
