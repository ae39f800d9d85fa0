// Installed hosts for the updater's tests: signed manifests for real bundles (test/helpers/release-bundle.ts),
// a prefix laid out as the install script lays it out, and hostd run by the real launcher
// (test/helpers/installed-host.ts) against the test server.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex, verifyBundleDir } from '../../proto/host-bundle.js';
import { signRelease, type ReleaseKeyFile, type ReleaseManifest, type SignedRelease } from '../../proto/release.js';
import { agentsUnder, currentVersion, hostdPidsUnder, runsAlone, startLauncher, stopUnder } from '../helpers/installed-host.js';
import { freePort } from '../helpers/ports.js';
import type { Bundle } from '../helpers/release-bundle.js';
import { waitUntil } from './helpers.js';
import type { UpdateServer } from './update-server.js';

export function manifestFor(b: Bundle, over: Partial<ReleaseManifest> = {}): ReleaseManifest {
  const now = Date.now();
  return {
    format: 1, component: 'host', version: b.version, platform: process.platform, arch: process.arch,
    file: b.file.split('/').pop()!, size: b.data.length, sha256: sha256Hex(b.data),
    createdAt: new Date(now).toISOString(), expiresAt: new Date(now + 86_400_000).toISOString(), ...over,
  };
}

export function updateFor(signed: SignedRelease, rolloutId: string, healthSeconds: number) {
  return { rolloutId, manifest: signed.manifest, signature: signed.signature, keyId: signed.keyId, healthSeconds };
}

export const sign = (m: ReleaseManifest, key: ReleaseKeyFile): SignedRelease => signRelease(m, key);

export interface InstalledHost {
  root: string;
  prefix: string;
  name: string;
  launcher?: ChildProcess;
  logFile: string;
  start(env?: NodeJS.ProcessEnv): void;
  /** The version current points at. */
  current(): string;
  hostdPids(): number[];
  /** agentd processes, with the version folder each runs from. */
  agents(): { pid: number; version: string }[];
  stop(): Promise<void>;
}

/** A prefix as scripts/install.sh makes it, with `bundle` installed and current. */
export async function installHost(server: UpdateServer, bundle: Bundle, name: string, trustedKeys: string[], startGraceSeconds = 8): Promise<InstalledHost> {
  const root = mkdtempSync(join(tmpdir(), `ops-upd-${name}-`));
  const prefix = join(root, 'opt');
  const dir = join(prefix, 'versions', bundle.version);
  mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['-xzf', bundle.file, '-C', dir]);
  verifyBundleDir(dir);
  symlinkSync(`versions/${bundle.version}`, join(prefix, 'current'));
  mkdirSync(join(prefix, 'bin'));
  copyFileSync(join(dir, 'hostd-launch.sh'), join(prefix, 'bin', 'hostd-launch'));
  execFileSync('chmod', ['755', join(prefix, 'bin', 'hostd-launch')]);
  mkdirSync(join(prefix, 'etc'));
  const agentPort = await freePort();
  writeFileSync(join(prefix, 'etc', 'hostd.yaml'), [
    `dataDir: ${prefix}/data`, 'log:', '  level: debug',
    'manager:', `  address: "${server.address}"`, `  caHash: "${server.caHash}"`,
    'enroll:', '  token: "update-test"', 'node:', `  name: ${name}`,
    'agent:', `  listen: 127.0.0.1:${agentPort}`,
    'update:', `  startGraceSeconds: ${startGraceSeconds}`, '  trustedKeys:', ...trustedKeys.map((k) => `    - "${k}"`), '',
  ].join('\n'));
  const logFile = join(root, 'launcher.log');
  const h: InstalledHost = {
    root, prefix, name, logFile,
    start(env = {}) { h.launcher = startLauncher(prefix, logFile, env); },
    current: () => currentVersion(prefix),
    hostdPids: () => hostdPidsUnder(prefix),
    agents: () => agentsUnder(prefix),
    stop: () => stopUnder(prefix, h.launcher),
  };
  return h;
}

/**
 * Exactly one valid version running: current -> versions/<version>, which verifies; one hostd (of
 * that version, by its hello) and one agentd, from that folder, both up for a moment.
 */
export async function oneVersionRunning(h: InstalledHost, server: UpdateServer, version: string, timeoutMs = 60_000): Promise<void> {
  await waitUntil(`${h.name} to run ${version} alone`, () => {
    const hello = server.helloOf(h.name);
    return runsAlone(h.prefix, version) && hello?.hostdVersion === version && hello.agentVersion !== undefined;
  }, timeoutMs);
  verifyBundleDir(join(h.prefix, 'versions', version));
  const versions = readdirSync(join(h.prefix, 'versions')).filter((v) => !v.startsWith('.'));
  if (!versions.includes(version)) throw new Error(`versions/ lacks ${version}: ${versions.join(', ')}`);
}
