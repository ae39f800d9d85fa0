// Signed releases, both sides: `opsctl release create` signs a manifest with the operator's key (the
// manager never holds it), the manager checks and stores it, and hostd checks it again against the
// keys hostd.yaml trusts before it installs anything. The signature covers the manifest's exact
// UTF-8 text, so no canonical JSON is needed: whoever verifies parses the bytes that were signed.
//
// A release is one host bundle (proto/host-bundle.ts): hostd and agentd together, so `component`
// is 'host'. The bundle's own manifest.json vouches for the files inside; this manifest vouches for
// the .tar.gz as a whole (size and SHA-256), and says until when it may be installed.
import { createHash } from 'node:crypto';
import nacl from 'tweetnacl';
import { ErrorCode, OpsError } from './errors.js';

export const RELEASE_FORMAT = 1;
export const RELEASE_COMPONENTS = ['host'] as const;
export type ReleaseComponent = (typeof RELEASE_COMPONENTS)[number];
export const PUBLIC_KEY_PREFIX = 'ed25519:';
export const KEY_FILE_KIND = 'opsctl-release-key';

export interface ReleaseManifest {
  format: typeof RELEASE_FORMAT;
  component: ReleaseComponent;
  version: string;
  /** `process.platform` and `process.arch` of the hosts it is for. */
  platform: string;
  arch: string;
  /** The bundle's file name, e.g. opsctl-host-1.4.0-linux-x64.tar.gz. */
  file: string;
  /** The bundle's exact size in bytes: a download stops here, whatever the sender does. */
  size: number;
  /** Lower-case hex SHA-256 of the bundle. */
  sha256: string;
  /** RFC 3339. */
  createdAt: string;
  /** RFC 3339. Past it the release may no longer be installed; a running version is never stopped for it. */
  expiresAt: string;
  notes?: string;
}

/** A manifest as it travels: the signed text, its detached signature, and the signing key's id. */
export interface SignedRelease {
  manifest: string;
  /** Base64 Ed25519 signature over the UTF-8 bytes of `manifest`. */
  signature: string;
  /** publicKeyId() of the key that signed it (a hint for error messages; verification tries every trusted key). */
  keyId: string;
}

/** The key file `opsctl release keygen` writes (mode 0600). */
export interface ReleaseKeyFile {
  kind: typeof KEY_FILE_KIND;
  algorithm: 'ed25519';
  /** Base64 of tweetnacl's 64-byte secret key. */
  secretKey: string;
  /** `ed25519:<base64 of 32 bytes>`: the form hostd.yaml's trusted keys take. */
  publicKey: string;
  createdAt: string;
}

const fail = (code: (typeof ErrorCode)[keyof typeof ErrorCode], message: string): never => { throw new OpsError(code, message); };

export function generateReleaseKey(now = new Date()): ReleaseKeyFile {
  const pair = nacl.sign.keyPair();
  return {
    kind: KEY_FILE_KIND, algorithm: 'ed25519', secretKey: Buffer.from(pair.secretKey).toString('base64'),
    publicKey: PUBLIC_KEY_PREFIX + Buffer.from(pair.publicKey).toString('base64'), createdAt: now.toISOString(),
  };
}

export function parseReleaseKeyFile(text: string): ReleaseKeyFile {
  let k: Partial<ReleaseKeyFile>;
  try { k = JSON.parse(text) as Partial<ReleaseKeyFile>; } catch { return fail(ErrorCode.INVALID_ARGUMENT, 'release key file is not JSON'); }
  if (k?.kind !== KEY_FILE_KIND || k.algorithm !== 'ed25519') return fail(ErrorCode.INVALID_ARGUMENT, `release key file must have kind "${KEY_FILE_KIND}" and algorithm "ed25519"`);
  const secret = Buffer.from(String(k.secretKey ?? ''), 'base64');
  if (secret.length !== nacl.sign.secretKeyLength) return fail(ErrorCode.INVALID_ARGUMENT, 'release key file holds no 64-byte Ed25519 secret key');
  const publicKey = PUBLIC_KEY_PREFIX + Buffer.from(nacl.sign.keyPair.fromSecretKey(secret).publicKey).toString('base64');
  if (k.publicKey !== undefined && k.publicKey !== publicKey) return fail(ErrorCode.INVALID_ARGUMENT, 'release key file: publicKey does not belong to secretKey');
  return { kind: KEY_FILE_KIND, algorithm: 'ed25519', secretKey: k.secretKey as string, publicKey, createdAt: String(k.createdAt ?? '') };
}

/** The 32 raw bytes of an `ed25519:<base64>` public key; refuses anything else. */
export function parsePublicKey(text: string): Uint8Array {
  const raw = typeof text === 'string' && text.startsWith(PUBLIC_KEY_PREFIX) ? Buffer.from(text.slice(PUBLIC_KEY_PREFIX.length), 'base64') : Buffer.alloc(0);
  if (raw.length !== nacl.sign.publicKeyLength) return fail(ErrorCode.INVALID_ARGUMENT, `release public key must be "${PUBLIC_KEY_PREFIX}" and 32 bytes in base64`);
  return new Uint8Array(raw);
}

/** A short, stable name for a public key: the first 16 hex digits of SHA-256 over its raw bytes. */
export function publicKeyId(publicKey: string): string {
  return createHash('sha256').update(parsePublicKey(publicKey)).digest('hex').slice(0, 16);
}

export function signRelease(manifest: ReleaseManifest, key: ReleaseKeyFile): SignedRelease {
  const text = JSON.stringify(manifest);
  const signature = nacl.sign.detached(Buffer.from(text, 'utf8'), Buffer.from(key.secretKey, 'base64'));
  return { manifest: text, signature: Buffer.from(signature).toString('base64'), keyId: publicKeyId(key.publicKey) };
}

/** Parses a manifest's text, refusing any field missing or of the wrong shape (the signature is checked separately). */
export function parseReleaseManifest(text: string): ReleaseManifest {
  let m: Partial<ReleaseManifest>;
  try { m = JSON.parse(text) as Partial<ReleaseManifest>; } catch { return fail(ErrorCode.INVALID_ARGUMENT, 'release manifest is not JSON'); }
  if (m === null || typeof m !== 'object') return fail(ErrorCode.INVALID_ARGUMENT, 'release manifest must be an object');
  if (m.format !== RELEASE_FORMAT) fail(ErrorCode.INVALID_ARGUMENT, `release manifest format must be ${RELEASE_FORMAT}`);
  if (!RELEASE_COMPONENTS.includes(m.component as ReleaseComponent)) fail(ErrorCode.INVALID_ARGUMENT, `release manifest component must be one of ${RELEASE_COMPONENTS.join(', ')}`);
  for (const key of ['version', 'platform', 'arch', 'file', 'sha256', 'createdAt', 'expiresAt'] as const) {
    if (typeof m[key] !== 'string' || m[key] === '') fail(ErrorCode.INVALID_ARGUMENT, `release manifest ${key} must be a non-empty string`);
  }
  if (parseVersion(m.version as string) === undefined) fail(ErrorCode.INVALID_ARGUMENT, `release manifest version ${JSON.stringify(m.version)} is not MAJOR.MINOR.PATCH[-PRE]`);
  if (!Number.isSafeInteger(m.size) || (m.size as number) <= 0) fail(ErrorCode.INVALID_ARGUMENT, 'release manifest size must be a positive integer');
  if (!/^[0-9a-f]{64}$/.test(m.sha256 as string)) fail(ErrorCode.INVALID_ARGUMENT, 'release manifest sha256 must be 64 lower-case hex digits');
  if (Number.isNaN(Date.parse(m.expiresAt as string)) || Number.isNaN(Date.parse(m.createdAt as string))) fail(ErrorCode.INVALID_ARGUMENT, 'release manifest createdAt and expiresAt must be dates');
  if (/[/\\]|^\.\.?$/.test(m.file as string)) fail(ErrorCode.INVALID_ARGUMENT, 'release manifest file must be a plain file name');
  if (m.notes !== undefined && typeof m.notes !== 'string') fail(ErrorCode.INVALID_ARGUMENT, 'release manifest notes must be a string');
  return m as ReleaseManifest;
}

/**
 * The manifest, once its signature checks out against one of `trustedKeys` (`ed25519:…` strings).
 * Throws RELEASE_SIGNATURE_INVALID for a signature that is malformed or wrong, and
 * RELEASE_KEY_UNTRUSTED when no trusted key made it. Expiry and version are checkInstallable's.
 */
export function verifyRelease(signed: SignedRelease, trustedKeys: readonly string[]): ReleaseManifest {
  const message = Buffer.from(String(signed.manifest ?? ''), 'utf8');
  const signature = Buffer.from(String(signed.signature ?? ''), 'base64');
  if (signature.length !== nacl.sign.signatureLength) fail(ErrorCode.RELEASE_SIGNATURE_INVALID, 'release signature must be 64 bytes in base64');
  if (trustedKeys.length === 0) fail(ErrorCode.RELEASE_KEY_UNTRUSTED, 'no release key is trusted here: nothing can be verified');
  const signedByTrusted = trustedKeys.some((key) => nacl.sign.detached.verify(message, signature, parsePublicKey(key)));
  if (!signedByTrusted) {
    fail(ErrorCode.RELEASE_KEY_UNTRUSTED, `release is not signed by a trusted key (it names key ${signed.keyId || 'none'}; trusted: ${trustedKeys.map(publicKeyId).join(', ')})`);
  }
  return parseReleaseManifest(signed.manifest);
}

export interface InstallContext {
  /** The version running now; undefined when none (a first install). */
  runningVersion?: string;
  platform: string;
  arch: string;
  now?: Date;
}

/** Refuses a verified manifest that must not be installed here: another platform, expired, not newer. */
export function checkInstallable(m: ReleaseManifest, ctx: InstallContext): void {
  if (m.platform !== ctx.platform || m.arch !== ctx.arch) fail(ErrorCode.RELEASE_INCOMPATIBLE, `release ${m.version} is for ${m.platform}-${m.arch}, this host is ${ctx.platform}-${ctx.arch}`);
  if (Date.parse(m.expiresAt) <= (ctx.now ?? new Date()).getTime()) fail(ErrorCode.RELEASE_EXPIRED, `release ${m.version} expired at ${m.expiresAt}`);
  if (ctx.runningVersion !== undefined && compareVersions(m.version, ctx.runningVersion) <= 0) {
    fail(ErrorCode.RELEASE_NOT_NEWER, `release ${m.version} is not newer than the running ${ctx.runningVersion}`);
  }
}

interface ParsedVersion { nums: [number, number, number]; pre: string[] }

function parseVersion(v: string): ParsedVersion | undefined {
  const m = /^(\d{1,9})\.(\d{1,9})\.(\d{1,9})(?:-([0-9A-Za-z.-]+))?$/.exec(v);
  if (!m) return undefined;
  return { nums: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] ? m[4].split('.') : [] };
}

/** Semantic-version order: negative when a < b. A pre-release sorts before its release (1.4.0-rc.1 < 1.4.0). */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a); const pb = parseVersion(b);
  if (!pa || !pb) return fail(ErrorCode.INVALID_ARGUMENT, `not a version: ${JSON.stringify(pa ? b : a)}`);
  for (let i = 0; i < 3; i++) if (pa.nums[i] !== pb.nums[i]) return pa.nums[i] - pb.nums[i];
  if (pa.pre.length === 0 || pb.pre.length === 0) return pb.pre.length - pa.pre.length;
  for (let i = 0; i < Math.min(pa.pre.length, pb.pre.length); i++) {
    const x = pa.pre[i]; const y = pb.pre[i];
    if (x === y) continue;
    const nx = /^\d+$/.test(x); const ny = /^\d+$/.test(y);
    if (nx && ny) return Number(x) - Number(y);
    if (nx !== ny) return nx ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return pa.pre.length - pb.pre.length;
}

export const isVersion = (v: string): boolean => parseVersion(v) !== undefined;

/**
 * Where an update stands on a host (UpdateReport.state in the host link). The first five are steps
 * in order; the last four end it. `committed` means the new version passed its health window.
 */
export const UPDATE_STATES = ['downloading', 'verifying', 'installing', 'restarting', 'health-check', 'committed', 'rolled-back', 'refused', 'failed'] as const;
export type UpdateState = (typeof UPDATE_STATES)[number];
export const FINAL_UPDATE_STATES: readonly UpdateState[] = ['committed', 'rolled-back', 'refused', 'failed'];
/** How long a new version must stay healthy before it is committed, unless the rollout says otherwise. */
export const DEFAULT_HEALTH_SECONDS = 30;
