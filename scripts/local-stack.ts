// Brings up a whole opsctl system on this machine as separate OS processes: the manager
// (`opsctl server`, SQLite under dataDir), a hostd enrolled to it with a fresh one-time token, and
// the agentd that hostd starts. Used by `npm start` (scripts/dev-up.ts), the end-to-end tests and
// the benchmarks, so all three exercise the same real path.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, existsSync, fchmodSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../lib/version.js';

export interface LocalStackOptions {
  dataDir: string;
  httpPort: number;
  grpcPort: number;
  agentPort: number;
  nodeName?: string;
  logLevel?: string;
  /** Extra environment for every process (e.g. faster heartbeats in tests). */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for each step. */
  timeoutMs?: number;
  /** Node options for the manager's process only (e.g. ['--cpu-prof'] to profile it). */
  managerNodeArgs?: string[];
  /** The hostd script to run (it starts its own agentd): default the package's bin/hostd.js; a host bundle's hostd.mjs. */
  hostdScript?: string;
  /** The manager alone: no first host (agentPort and nodeName unused); hosts come from addHost or elsewhere (the install script). */
  hostless?: boolean;
}

export interface LocalStack {
  httpUrl: string;
  grpcAddress: string;
  admin: { username: string; password: string };
  /** A JWT for the admin, for API calls. */
  token: string;
  nodeName: string;
  manager: ChildProcess;
  hostd: ChildProcess;
  logDir: string;
  stop(): Promise<void>;
  /**
   * Enrolls and starts one more host (hostd and its agentd, data in <dataDir>/hostd-<name>); resolves once it is online.
   * `env`: more environment for this host only; `configFile`: its hostd.yaml (--config);
   * `hostdScript`: the hostd it runs, if not the stack's (LocalStackOptions.hostdScript).
   */
  addHost(name: string, agentPort: number, env?: NodeJS.ProcessEnv, configFile?: string, hostdScript?: string): Promise<ChildProcess>;
  /** Stops the manager with `signal` (SIGKILL: a crash) and starts it again on the same data; resolves once it answers. */
  restartManager(signal?: NodeJS.Signals): Promise<ChildProcess>;
}

const root = packageRoot();

export function binPath(name: 'opsctl' | 'hostd' | 'agentd'): string {
  return join(root, 'bin', name === 'opsctl' ? 'opsctl.cjs' : `${name}.js`);
}

export interface BinRun { code: number | null; stdout: string; stderr: string }

/** Runs one of the package's commands to completion, collecting its output; killed after timeoutMs. */
export function runBin(name: 'opsctl' | 'hostd' | 'agentd', args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<BinRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [binPath(name), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/**
 * Node flags for the manager, as bin/opsctl.cjs's first line gives them when it is run itself (see
 * there why); for starting it with `node bin/opsctl.cjs server`.
 */
export const MANAGER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];

function startProcess(bin: string, args: string[], env: NodeJS.ProcessEnv, logFile: string, nodeArgs: string[] = []): ChildProcess {
  const fd = openSync(logFile, 'a', 0o600);
  fchmodSync(fd, 0o600);
  // Its own process group: a Ctrl-C in the launcher's terminal reaches only the launcher, which
  // then stops the children in order (a second signal would make a daemon exit at once).
  const child = spawn(process.execPath, [...nodeArgs, bin, ...args], { env, stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  return child;
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, proc?: ChildProcess, logFile?: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (proc && proc.exitCode !== null) {
      const tail = logFile && existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '';
      throw new Error(`${what}: process exited with code ${proc.exitCode}\n${tail}`);
    }
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}

export async function api<T>(httpUrl: string, token: string | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; body: { code: number; message: string; data: T } }> {
  const res = await fetch(`${httpUrl}/api/v1${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as { code: number; message: string; data: T } };
}

function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
}

/** The admin credentials the manager wrote on its first start (`username: ...`, `password: ...`). */
export function readInitialAdmin(managerDir: string): { username: string; password: string } {
  const text = readFileSync(join(managerDir, 'initial-admin.txt'), 'utf8');
  const username = /username:\s*(\S+)/.exec(text)?.[1];
  const password = /password:\s*(\S+)/.exec(text)?.[1];
  if (!username || !password) throw new Error(`cannot read admin credentials from ${join(managerDir, 'initial-admin.txt')}`);
  return { username, password };
}

/** A stack started with `hostless`: the manager, no host of its own. */
export type ManagerStack = Omit<LocalStack, 'hostd' | 'nodeName'>;

export function startLocalStack(opts: LocalStackOptions & { hostless: true }): Promise<ManagerStack>;
export function startLocalStack(opts: LocalStackOptions): Promise<LocalStack>;
export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack | ManagerStack> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const managerDir = join(opts.dataDir, 'manager');
  const hostdDir = join(opts.dataDir, 'hostd');
  const logDir = join(opts.dataDir, 'logs');
  // 0700: the manager and hostd keep keys and secrets in these (hostd only tightens a dir it creates).
  for (const d of [managerDir, hostdDir, logDir]) { mkdirSync(d, { recursive: true, mode: 0o700 }); chmodSync(d, 0o700); }
  const baseEnv = { ...process.env, OPS_LOG_LEVEL: opts.logLevel ?? 'info', ...opts.env };
  const httpUrl = `http://127.0.0.1:${opts.httpPort}`;
  const grpcAddress = `127.0.0.1:${opts.grpcPort}`;

  const managerLog = join(logDir, 'manager.log');
  const startManager = () => startProcess(binPath('opsctl'), ['server'], {
    ...baseEnv,
    OPS_DATA_DIR: managerDir,
    OPS_HTTP_HOST: '127.0.0.1',
    OPS_HTTP_PORT: String(opts.httpPort),
    OPS_GRPC_HOST: '127.0.0.1',
    OPS_GRPC_PORT: String(opts.grpcPort),
    OPS_GRPC_ADVERTISE: grpcAddress,
  }, managerLog, [...MANAGER_NODE_FLAGS, ...(opts.managerNodeArgs ?? [])]);
  let manager = startManager();
  const stopAll: ChildProcess[] = [manager];
  const stop = async () => { for (const p of [...stopAll].reverse()) await stopProcess(p); };
  const managerAnswers = (proc: ChildProcess) => waitFor('the manager to answer', timeoutMs, async () => {
    const res = await fetch(`${httpUrl}/api/v1/health`);
    return res.ok ? true : undefined;
  }, proc, managerLog);

  try {
    await managerAnswers(manager);

    const admin = readInitialAdmin(managerDir);
    const login = await api<{ token: string }>(httpUrl, undefined, 'POST', '/auth/login', admin);
    if (login.status !== 200) throw new Error(`login as ${admin.username} failed: ${login.body.message}`);
    const token = login.body.data.token;
    const nodeName = opts.nodeName ?? hostname();
    const startHost = async (name: string, dir: string, agentPort: number, env: NodeJS.ProcessEnv = {}, configFile?: string, hostdScript = opts.hostdScript): Promise<ChildProcess> => {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const hostdArgs = ['--manager', grpcAddress, '--data-dir', dir, '--agent-listen', `127.0.0.1:${agentPort}`, '--name', name];
      if (configFile) hostdArgs.push('--config', configFile);
      // The launcher owns this agentd's lifetime: hostd stops it on exit (in production it does not).
      const hostdEnv: NodeJS.ProcessEnv = { ...baseEnv, ...env, OPS_AGENT_STOP_ON_EXIT: 'true' };
      if (!existsSync(join(dir, 'node.crt'))) {
        const created = await api<{ token: string; caHash: string }>(httpUrl, token, 'POST', '/enrollment-tokens', { uses: 1, ttlSeconds: 600 });
        if (created.status !== 201 && created.status !== 200) throw new Error(`creating an enrollment token failed: ${created.body.message}`);
        hostdArgs.push('--ca-hash', created.body.data.caHash);
        // In the environment, not argv: hostd's command line is readable by every user (ps).
        hostdEnv.OPS_ENROLL_TOKEN = created.body.data.token;
      }
      const hostdLog = join(logDir, dir === hostdDir ? 'hostd.log' : `hostd-${name}.log`);
      const child = startProcess(hostdScript ?? binPath('hostd'), hostdArgs, hostdEnv, hostdLog);
      stopAll.push(child);
      await waitFor(`node ${name} to come online`, timeoutMs, async () => {
        const res = await api<{ name: string; status: string; agentStatus: string }>(httpUrl, token, 'GET', `/nodes/${encodeURIComponent(name)}`);
        const node = res.status === 200 ? res.body.data : undefined;
        return node && node.status === 'online' && node.agentStatus === 'healthy' ? true : undefined;
      }, child, hostdLog);
      return child;
    };
    const hostd = opts.hostless ? undefined : await startHost(nodeName, hostdDir, opts.agentPort);
    const addHost = (name: string, agentPort: number, env?: NodeJS.ProcessEnv, configFile?: string, hostdScript?: string) =>
      startHost(name, join(opts.dataDir, `hostd-${name}`), agentPort, env, configFile, hostdScript ?? opts.hostdScript);

    const restartManager = async (signal: NodeJS.Signals = 'SIGKILL') => {
      const old = manager;
      await new Promise<void>((resolve) => {
        if (old.exitCode !== null || old.signalCode !== null) return resolve();
        old.once('exit', () => resolve());
        old.kill(signal);
      });
      manager = startManager();
      stopAll[stopAll.indexOf(old)] = manager;
      stack.manager = manager;
      await managerAnswers(manager);
      return manager;
    };
    // One object (restartManager updates its manager), with the first host when there is one.
    const stack: ManagerStack = hostd
      ? { httpUrl, grpcAddress, admin, token, manager, logDir, stop, addHost, restartManager, hostd, nodeName } as LocalStack
      : { httpUrl, grpcAddress, admin, token, manager, logDir, stop, addHost, restartManager };
    return stack;
  } catch (err) {
    await stop();
    throw err;
  }
}
