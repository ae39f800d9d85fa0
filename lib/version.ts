// The version every component reports: the package version, read once at start; or, in a host
// bundle (npm run package), the version compiled in, since no package.json travels with it.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Replaced by its value in a host bundle (esbuild's define, scripts/package.ts); undeclared elsewhere. */
declare const OPS_BUNDLE_VERSION: string | undefined;

/** The version compiled into a host bundle; undefined when running from the package. */
export const bundleVersion: string | undefined = typeof OPS_BUNDLE_VERSION === 'string' ? OPS_BUNDLE_VERSION : undefined;

/** The opsctl package root, found from both the TypeScript sources and the built dist/ tree. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || dir.endsWith('/dist')) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('opsctl package root not found');
    dir = parent;
  }
  return dir;
}

/** The script that starts agentd: agentd.mjs beside the running hostd.mjs in a bundle, else the package's bin/agentd.js. */
export function agentdScript(): string {
  return bundleVersion !== undefined ? join(dirname(fileURLToPath(import.meta.url)), 'agentd.mjs') : join(packageRoot(), 'bin', 'agentd.js');
}

let version: string | undefined;
export function opsVersion(): string {
  version ??= bundleVersion ?? (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}
