// A downloaded (and hash-checked) bundle into PREFIX/versions/<version>: unpacked into a temporary
// folder beside it, checked file by file against its manifest.json (verifyBundleDir: nothing
// missing, altered or extra), then renamed into place, so versions/<version> is whole or absent.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ErrorCode, OpsError } from '../../proto/errors.js';
import { BundleError, verifyBundleDir, type BundleManifest } from '../../proto/host-bundle.js';
import type { ReleaseManifest } from '../../proto/release.js';
import { versionDir } from './layout.js';

const run = promisify(execFile);

/** The bundle in versions/<m.version> when it is there and whole; else undefined (and why). */
export function checkInstalled(prefix: string, m: Pick<ReleaseManifest, 'version' | 'platform' | 'arch'>): { manifest?: BundleManifest; problem?: string } {
  const dir = versionDir(prefix, m.version);
  if (!existsSync(dir)) return { problem: `${dir} does not exist` };
  try {
    const manifest = verifyBundleDir(dir);
    if (manifest.version !== m.version || manifest.platform !== m.platform || manifest.arch !== m.arch) {
      return { problem: `${dir} holds ${manifest.version} for ${manifest.platform}-${manifest.arch}` };
    }
    return { manifest };
  } catch (err) {
    return { problem: (err as Error).message };
  }
}

export async function unpackBundle(prefix: string, bundle: string, m: ReleaseManifest): Promise<void> {
  const versions = join(prefix, 'versions');
  mkdirSync(versions, { recursive: true });
  const stage = mkdtempSync(join(versions, '.unpack-'));
  try {
    // The archive's hash matched the signed manifest: its content is the signer's. tar is the
    // system's (as the install script's): no tar code to load into hostd for a rare job.
    await run('tar', ['-xzf', bundle, '-C', stage, '--no-same-owner'], { timeout: 120_000 });
    let inside: BundleManifest;
    try {
      inside = verifyBundleDir(stage);
    } catch (err) {
      throw new OpsError(ErrorCode.RELEASE_HASH_MISMATCH, `the unpacked bundle does not match its manifest.json: ${(err as BundleError).message}`);
    }
    if (inside.version !== m.version || inside.platform !== m.platform || inside.arch !== m.arch) {
      throw new OpsError(ErrorCode.RELEASE_HASH_MISMATCH, `the bundle holds ${inside.version} for ${inside.platform}-${inside.arch}, its signed manifest says ${m.version} for ${m.platform}-${m.arch}`);
    }
    chmodSync(stage, 0o755);
    const target = versionDir(prefix, m.version);
    rmSync(target, { recursive: true, force: true });
    renameSync(stage, target);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
