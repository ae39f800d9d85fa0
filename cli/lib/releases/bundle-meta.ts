// What `opsctl release create` signs about a bundle: its version, platform and arch, read from the
// bundle's own manifest.json (authoritative: the version is compiled into the bundle) or, for a
// file that has none, from its name (opsctl-host-<version>-<platform>-<arch>.tar.gz).
import { basename } from 'node:path';
import { MANIFEST_FILE, parseManifest } from '../../../proto/host-bundle.js';
import { UsageError } from '../errors.js';

export interface BundleMeta { version: string; platform: string; arch: string; from: 'manifest.json' | 'file name' }

const NAME = /^opsctl-host-(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)-([a-z0-9]+)-([a-z0-9_]+)\.tar\.gz$/;

export function metaFromName(path: string): Omit<BundleMeta, 'from'> | undefined {
  const m = NAME.exec(basename(path));
  return m ? { version: m[1], platform: m[2], arch: m[3] } : undefined;
}

/** manifest.json at the archive's root, or undefined when the archive has none. */
async function readBundleManifest(path: string): Promise<string | undefined> {
  const { list } = await import('tar');
  let text: string | undefined;
  await list({
    file: path,
    onReadEntry: (entry) => {
      if (entry.path.replace(/^\.\//, '') !== MANIFEST_FILE || entry.size > 1024 * 1024) { entry.resume(); return; }
      const parts: Buffer[] = [];
      entry.on('data', (d: Buffer) => parts.push(d));
      entry.on('end', () => { text = Buffer.concat(parts).toString('utf8'); });
    },
  });
  return text;
}

/** The bundle's version, platform and arch; `version` (--version) must agree with what the bundle says. */
export async function bundleMeta(path: string, version?: string): Promise<BundleMeta> {
  let text: string | undefined;
  try {
    text = await readBundleManifest(path);
  } catch (err) {
    throw new UsageError(`${path} is not a host bundle (a .tar.gz): ${(err as Error).message}`);
  }
  let meta: BundleMeta | undefined;
  if (text !== undefined) {
    try {
      const m = parseManifest(text);
      meta = { version: m.version, platform: m.platform, arch: m.arch, from: MANIFEST_FILE };
    } catch (err) {
      throw new UsageError(`${path}: ${(err as Error).message}`);
    }
  } else {
    const named = metaFromName(path);
    if (named) meta = { ...named, from: 'file name' };
  }
  if (!meta) throw new UsageError(`${path} has no manifest.json and its name is not opsctl-host-VERSION-PLATFORM-ARCH.tar.gz: build bundles with npm run package`);
  if (version !== undefined && version !== meta.version) throw new UsageError(`--version ${version} does not match the bundle, whose ${meta.from} says ${meta.version}`);
  return meta;
}
