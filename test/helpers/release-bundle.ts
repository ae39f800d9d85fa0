// A small host bundle for release tests, laid out as npm run package makes one (manifest.json at
// the root listing the other files with their hashes), or without manifest.json.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { create as tarCreate } from 'tar';
import { buildManifest, MANIFEST_FILE } from '../../proto/host-bundle.js';

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
