// The host bundle, both sides: `npm run package` writes it (scripts/package.ts) and whatever installs
// or updates a host checks it (verifyBundleDir). docs/host-bundle.md describes the format.
// A bundle is `opsctl-host-<version>-<platform>-<arch>.tar.gz` holding, at the archive's root,
// hostd.mjs, agentd.mjs, the .proto files they read at run time and manifest.json, which lists
// every other file with its size and SHA-256. The releases work signs manifest.json; the hashes
// then vouch for the rest.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, normalize, sep } from 'node:path';

export const BUNDLE_FORMAT = 1;
export const MANIFEST_FILE = 'manifest.json';

export interface BundleFile {
  /** Relative to the bundle's root, '/'-separated. */
  path: string;
  size: number;
  /** Lower-case hex. */
  sha256: string;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  version: string;
  /** `process.platform` and `process.arch` of the hosts it is for. */
  platform: string;
  arch: string;
  /** The Node versions it runs on, as a semver range. */
  node: string;
  files: BundleFile[];
  /** RFC 3339. */
  createdAt: string;
}

export class BundleError extends Error {
  constructor(message: string) { super(message); this.name = 'BundleError'; }
}

export function bundleFileName(version: string, platform: string, arch: string): string {
  return `opsctl-host-${version}-${platform}-${arch}.tar.gz`;
}

export function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A path that stays inside the bundle: relative, '/'-separated, no '.' or '..' segments. */
export function bundlePathProblem(path: string): string | undefined {
  if (typeof path !== 'string' || path === '') return 'is empty';
  if (path.includes('\\') || path.includes('\0')) return 'holds a backslash or NUL';
  if (isAbsolute(path) || path.startsWith('/')) return 'is absolute';
  if (path.split('/').some((part) => part === '' || part === '.' || part === '..')) return 'has an empty, "." or ".." segment';
  if (path === MANIFEST_FILE) return 'is the manifest itself';
  return undefined;
}

/** The manifest of the files at `paths` (relative to `dir`), in the order given. */
export function buildManifest(dir: string, paths: readonly string[], meta: Omit<BundleManifest, 'format' | 'files'>): BundleManifest {
  const files = paths.map((path) => {
    const problem = bundlePathProblem(path);
    if (problem) throw new BundleError(`bundle path ${JSON.stringify(path)} ${problem}`);
    const data = readFileSync(join(dir, path));
    return { path, size: data.length, sha256: sha256Hex(data) };
  });
  return { format: BUNDLE_FORMAT, version: meta.version, platform: meta.platform, arch: meta.arch, node: meta.node, files, createdAt: meta.createdAt };
}

/** Parses manifest.json's text, refusing any field that is missing or of the wrong shape. */
export function parseManifest(text: string): BundleManifest {
  let m: Partial<BundleManifest>;
  try {
    m = JSON.parse(text) as Partial<BundleManifest>;
  } catch (err) {
    throw new BundleError(`manifest.json is not JSON: ${(err as Error).message}`);
  }
  if (m === null || typeof m !== 'object') throw new BundleError('manifest.json must hold an object');
  if (m.format !== BUNDLE_FORMAT) throw new BundleError(`manifest.json format ${JSON.stringify(m.format)} is not ${BUNDLE_FORMAT}`);
  for (const key of ['version', 'platform', 'arch', 'node', 'createdAt'] as const) {
    if (typeof m[key] !== 'string' || m[key] === '') throw new BundleError(`manifest.json ${key} must be a non-empty string`);
  }
  if (!Array.isArray(m.files) || m.files.length === 0) throw new BundleError('manifest.json files must be a non-empty list');
  const seen = new Set<string>();
  for (const f of m.files) {
    const problem = bundlePathProblem(f?.path);
    if (problem) throw new BundleError(`manifest.json file path ${JSON.stringify(f?.path)} ${problem}`);
    if (seen.has(f.path)) throw new BundleError(`manifest.json lists ${f.path} twice`);
    seen.add(f.path);
    if (!Number.isSafeInteger(f.size) || f.size < 0) throw new BundleError(`manifest.json size of ${f.path} must be a whole number`);
    if (typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256)) throw new BundleError(`manifest.json sha256 of ${f.path} must be 64 lower-case hex digits`);
  }
  return m as BundleManifest;
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return listFiles(join(dir, entry.name), rel);
    return [rel];
  });
}

/**
 * Checks an unpacked bundle: manifest.json parses, every file it lists is a regular file of that
 * size and hash, and nothing else is there (a file slipped in beside the listed ones would run
 * unvouched for). Returns the manifest.
 */
export function verifyBundleDir(dir: string): BundleManifest {
  let text: string;
  try {
    text = readFileSync(join(dir, MANIFEST_FILE), 'utf8');
  } catch (err) {
    throw new BundleError(`reading ${MANIFEST_FILE}: ${(err as Error).message}`);
  }
  const manifest = parseManifest(text);
  for (const f of manifest.files) {
    const full = join(dir, ...f.path.split('/'));
    if (!normalize(full).startsWith(normalize(dir) + sep)) throw new BundleError(`${f.path} leaves the bundle`);
    let st;
    try {
      st = lstatSync(full);
    } catch {
      throw new BundleError(`${f.path} is listed in ${MANIFEST_FILE} but missing`);
    }
    if (!st.isFile()) throw new BundleError(`${f.path} is not a regular file (a link or a folder)`);
    const data = readFileSync(full);
    if (data.length !== f.size) throw new BundleError(`${f.path} is ${data.length} bytes, ${MANIFEST_FILE} says ${f.size}`);
    if (sha256Hex(data) !== f.sha256) throw new BundleError(`${f.path} does not match its SHA-256 in ${MANIFEST_FILE}`);
  }
  const listed = new Set([MANIFEST_FILE, ...manifest.files.map((f) => f.path)]);
  const extra = listFiles(dir).filter((p) => !listed.has(p));
  if (extra.length > 0) throw new BundleError(`not listed in ${MANIFEST_FILE}: ${extra.join(', ')}`);
  return manifest;
}
