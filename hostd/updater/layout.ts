// Where an installed host keeps its versions (scripts/install.sh makes it, docs/host-bundle.md):
// PREFIX/versions/<version>/ (unpacked bundles), PREFIX/current -> versions/<version>, the launcher
// PREFIX/bin/hostd-launch, and the update's own files (marker, request, downloads). hostd finds
// PREFIX from its own file: Node runs the real path of PREFIX/current/hostd.mjs, so a bundle's
// hostd.mjs sits in PREFIX/versions/<its version>/.
import { closeSync, existsSync, fsyncSync, lstatSync, openSync, readlinkSync, readdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleVersion } from '../../lib/version.js';

export interface HostLayout {
  prefix: string;
  /** The version this hostd is (compiled into its bundle). */
  running: string;
}

/** The layout this hostd runs from, or why it cannot update itself. */
export function findLayout(env: NodeJS.ProcessEnv = process.env, file = fileURLToPath(import.meta.url), version = bundleVersion): HostLayout | string {
  if (version === undefined) return `hostd runs from the opsctl package (${dirname(file)}), not from an installed host bundle: install it with the install script to update it`;
  const versionDir = dirname(file);
  const versionsDir = dirname(versionDir);
  const prefix = dirname(versionsDir);
  if (basename(versionsDir) !== 'versions' || basename(versionDir) !== version) {
    return `hostd ${version} runs from ${versionDir}, not from PREFIX/versions/${version}: only a host installed by the install script can update itself`;
  }
  if (currentVersion(prefix) === undefined) return `${join(prefix, 'current')} is not a link to versions/<version>: only a host installed by the install script can update itself`;
  if (env.OPS_LAUNCHER !== '1') {
    return `hostd was not started by ${join(prefix, 'bin', 'hostd-launch')}: without it a new hostd that crashed could not be reverted (run the install script again to install the launcher and its unit)`;
  }
  return { prefix, running: version };
}

/** The version PREFIX/current points at, if it is a link of the form versions/<version>. */
export function currentVersion(prefix: string): string | undefined {
  try {
    const target = readlinkSync(join(prefix, 'current'));
    const m = /^versions\/([^/]+)$/.exec(target);
    return m ? m[1] : undefined;
  } catch {
    return undefined;
  }
}

export const versionDir = (prefix: string, version: string): string => join(prefix, 'versions', version);
export const downloadsDir = (prefix: string): string => join(prefix, 'downloads');

function syncDir(dir: string): void {
  let fd: number | undefined;
  try { fd = openSync(dir, 'r'); fsyncSync(fd); } catch { /* best effort, as lib/atomic-write.ts */ } finally { if (fd !== undefined) closeSync(fd); }
}

/** Points PREFIX/current at versions/<version> by renaming a new link over it: never missing, even for a moment. */
export function pointCurrent(prefix: string, version: string): void {
  const tmp = join(prefix, '.current.new');
  rmSync(tmp, { force: true });
  symlinkSync(`versions/${version}`, tmp);
  renameSync(tmp, join(prefix, 'current'));
  syncDir(prefix);
}

/** Removes every version folder but `keep` (and stale unpack folders), and the downloads. */
export function pruneVersions(prefix: string, keep: readonly string[]): string[] {
  const dir = join(prefix, 'versions');
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    if (keep.includes(name)) continue;
    const path = join(dir, name);
    if (!lstatSync(path).isDirectory()) continue;
    rmSync(path, { recursive: true, force: true });
    removed.push(name);
  }
  if (existsSync(downloadsDir(prefix))) rmSync(downloadsDir(prefix), { recursive: true, force: true });
  return removed;
}
