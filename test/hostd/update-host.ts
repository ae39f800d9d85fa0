// Installed hosts for the updater's tests: real bundles of several versions (scripts/package.ts,
// some crafted to fail), signed manifests, a prefix laid out as the install script lays it out, and
// hostd run by the real launcher (PREFIX/bin/hostd-launch --loop) against the test server.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex, verifyBundleDir } from '../../proto/host-bundle.js';
import { signRelease, type ReleaseKeyFile, type ReleaseManifest, type SignedRelease } from '../../proto/release.js';
import { buildHostBundle } from '../../scripts/package.js';
import { freePort } from '../helpers/ports.js';
import { isAlive, processesMatching, waitUntil } from './helpers.js';
import type { UpdateServer } from './update-server.js';

export interface Bundle { version: string; file: string; data: Buffer }

/** Crafted failures, each patched into a real build of its version. */
export type BundleFault = 'exits-at-once' | 'crashes-later' | 'agent-never-healthy' | 'hangs';

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
  const hostdPids = () => processesMatching(`${prefix}/current/hostd.mjs`);
  const h: InstalledHost = {
    root, prefix, name, logFile,
    start(env = {}) {
      const fd = openSync(logFile, 'a');
      h.launcher = spawn('sh', [join(prefix, 'bin', 'hostd-launch'), '--loop', '--config', join(prefix, 'etc', 'hostd.yaml')], {
        env: { ...process.env, OPS_ENROLL_TOKEN: '', OPS_NODE: process.execPath, OPS_LAUNCH_RESTART_SECONDS: '0.2', ...env }, stdio: ['ignore', fd, fd],
      });
      closeSync(fd);
    },
    current: () => readlinkSync(join(prefix, 'current')).replace(/^versions\//, ''),
    hostdPids,
    agents: () => {
      const out: { pid: number; version: string }[] = [];
      for (const pid of processesMatching(`${prefix}/versions/`)) {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        const m = new RegExp(`^${prefix}/versions/([^/]+)/agentd\\.mjs$`).exec(argv[1] ?? '');
        if (m) out.push({ pid, version: m[1] });
      }
      return out;
    },
    async stop() {
      if (h.launcher && h.launcher.exitCode === null) {
        h.launcher.kill('SIGTERM');
        await waitUntil('the launcher to stop', () => h.launcher!.exitCode !== null || h.launcher!.signalCode !== null, 20_000).catch(() => h.launcher!.kill('SIGKILL'));
      }
      for (const pid of processesMatching(prefix)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      await waitUntil(`processes under ${prefix} to die`, () => processesMatching(prefix).filter(isAlive).length === 0, 10_000);
    },
  };
  return h;
}

/**
 * Exactly one valid version running: current -> versions/<version>, which verifies; one hostd (of
 * that version, by its hello) and one agentd, from that folder, both up for a moment.
 */
export async function oneVersionRunning(h: InstalledHost, server: UpdateServer, version: string, timeoutMs = 60_000): Promise<void> {
  await waitUntil(`${h.name} to run ${version} alone`, () => {
    if (h.current() !== version) return false;
    const hostds = h.hostdPids();
    const agents = h.agents();
    const hello = server.helloOf(h.name);
    return hostds.length === 1 && agents.length === 1 && agents[0].version === version && hello?.hostdVersion === version && hello.agentVersion !== undefined;
  }, timeoutMs);
  verifyBundleDir(join(h.prefix, 'versions', version));
  const versions = readdirSync(join(h.prefix, 'versions')).filter((v) => !v.startsWith('.'));
  if (!versions.includes(version)) throw new Error(`versions/ lacks ${version}: ${versions.join(', ')}`);
}

/** A process's private memory (RssAnon, kB); 0 when it is gone. */
export function rssAnonKb(pid: number): number {
  try {
    const m = /RssAnon:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
