// The host's service manager, found once when agentd starts, and how the `service` kind asks it
// to start, stop, restart or report a service: systemd (systemctl), SysV (the init script run
// directly), launchd (launchctl), or none. Each answers a status the same way — active, inactive,
// failed or unknown — with its own text kept as `raw`.
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentCapabilities, ServiceAction } from '../../proto/agent-api.js';
import { ErrorCode, OpsError } from '../../proto/errors.js';
import { ConfigError } from '../../lib/config.js';
import { SERVICE_MANAGER_CHOICES, type ServiceManagerChoice } from '../config.js';
import type { CommandResult } from './service-command.js';
import { resolveCommand } from './script-env.js';

export type ServiceManagerName = AgentCapabilities['serviceManager'];
export { SERVICE_MANAGER_CHOICES, type ServiceManagerChoice } from '../config.js';
export type ServiceState = 'active' | 'inactive' | 'failed' | 'unknown';
export type ControlAction = Exclude<ServiceAction, 'status'>;

/** Runs one command for the current run (output reported, stopped with the run). */
export type Exec = (file: string, args: string[]) => Promise<CommandResult>;

export interface ServiceManager {
  readonly name: ServiceManagerName;
  /** Throws OpsError 1004 "unknown service NAME" when the manager has no such service. */
  ensureKnown(service: string, exec: Exec): Promise<void>;
  control(action: ControlAction, service: string, exec: Exec): Promise<CommandResult>;
  state(service: string, exec: Exec): Promise<{ state: ServiceState; raw: string }>;
}

const unknownService = (service: string, why: string) => new OpsError(ErrorCode.NOT_FOUND, `unknown service ${service} (${why})`);
const both = (r: CommandResult) => r.stdout + r.stderr;

/** systemd: `systemctl show -p LoadState` to know the unit, `is-active` for the state, `status` as the raw text. */
export function systemdManager(systemctl: string): ServiceManager {
  return {
    name: 'systemd',
    async ensureKnown(service, exec) {
      const r = await exec(systemctl, ['show', '-p', 'LoadState', '--', service]);
      const loadState = /^LoadState=(.*)$/m.exec(r.stdout)?.[1]?.trim();
      if (r.code !== 0 || !loadState) throw new Error(`systemctl show ${service} failed (exit ${r.code ?? r.signal}): ${both(r).trim()}`);
      if (loadState === 'not-found') throw unknownService(service, 'systemd has no unit of that name');
    },
    control: (action, service, exec) => exec(systemctl, ['--no-ask-password', action, '--', service]),
    async state(service, exec) {
      const active = (await exec(systemctl, ['is-active', '--', service])).stdout.trim();
      const status = await exec(systemctl, ['status', '--no-pager', '--lines', '10', '--', service]);
      const state: ServiceState = active === 'active' || active === 'inactive' || active === 'failed' ? active : 'unknown';
      return { state, raw: both(status) };
    },
  };
}

/** LSB's exit codes of `<script> status`: 0 running, 1–2 dead with a pid or lock file left, 3 not running, 4+ unknown. */
export function lsbState(code: number | null): ServiceState {
  if (code === 0) return 'active';
  if (code === 3) return 'inactive';
  if (code === 1 || code === 2) return 'failed';
  return 'unknown';
}

/** SysV: `<initDir>/<name> <action>`, run directly (the name pattern keeps it inside initDir). */
export function sysvManager(initDir: string): ServiceManager {
  const script = (service: string) => join(initDir, service);
  return {
    name: 'sysv',
    async ensureKnown(service) {
      const path = script(service);
      try {
        if (!statSync(path).isFile()) throw new Error('not a file');
        accessSync(path, constants.X_OK);
      } catch {
        throw unknownService(service, `no executable ${path}`);
      }
    },
    control: (action, service, exec) => exec(script(service), [action]),
    async state(service, exec) {
      const r = await exec(script(service), ['status']);
      return { state: lsbState(r.code), raw: both(r) };
    },
  };
}

/** launchd: `launchctl list LABEL` knows the job and shows its PID and last exit status. */
export function launchdManager(launchctl: string): ServiceManager {
  return {
    name: 'launchd',
    async ensureKnown(service, exec) {
      const r = await exec(launchctl, ['list', service]);
      if (r.code !== 0) throw unknownService(service, 'launchd has no job with that label');
    },
    control: (action, service, exec) =>
      exec(launchctl, action === 'restart' ? ['kickstart', '-k', `system/${service}`] : [action, service]),
    async state(service, exec) {
      const r = await exec(launchctl, ['list', service]);
      let state: ServiceState = 'unknown';
      if (r.code === 0) {
        const lastExit = Number(/"LastExitStatus"\s*=\s*(-?\d+)/.exec(r.stdout)?.[1] ?? 0);
        state = /"PID"\s*=\s*\d+/.test(r.stdout) ? 'active' : lastExit !== 0 ? 'failed' : 'inactive';
      }
      return { state, raw: both(r) };
    },
  };
}

/** No service manager: every run fails with this. */
export const NO_SERVICE_MANAGER: ServiceManager = {
  name: 'none',
  ensureKnown: () => Promise.reject(new OpsError(ErrorCode.UNAVAILABLE, 'no service manager found on this host')),
  control: () => Promise.reject(new OpsError(ErrorCode.UNAVAILABLE, 'no service manager found on this host')),
  state: () => Promise.reject(new OpsError(ErrorCode.UNAVAILABLE, 'no service manager found on this host')),
};

/** What detection looks at; tests describe a host with it instead of needing one. */
export interface HostProbe {
  platform: NodeJS.Platform;
  /** The name of PID 1 (/proc/1/comm), undefined where there is no /proc. */
  pid1Name(): string | undefined;
  exists(path: string): boolean;
  isDirectory(path: string): boolean;
  /** Absolute path of a command on agentd's PATH, undefined when absent. */
  which(command: string): string | undefined;
}

export const realHost: HostProbe = {
  platform: process.platform,
  pid1Name: () => { try { return readFileSync('/proc/1/comm', 'utf8').trim(); } catch { return undefined; } },
  exists: existsSync,
  isDirectory: (path) => { try { return statSync(path).isDirectory(); } catch { return false; } },
  which: (command) => { const found = resolveCommand(command); return found.startsWith('/') ? found : undefined; },
};

export interface ServiceManagerConfig {
  manager: string;
  initDir: string;
}

/**
 * The service manager agentd uses. `auto` picks launchd on macOS, systemd when it is PID 1, SysV
 * when the init dir exists, else none. A manager named in the config that this host lacks stops
 * agentd at start (ConfigError), rather than failing every run later.
 */
export function detectServiceManager(cfg: ServiceManagerConfig, host: HostProbe = realHost): ServiceManager {
  const choice = cfg.manager as ServiceManagerChoice;
  const systemctl = () => host.which('systemctl');
  const launchctl = () => host.which('launchctl');
  const need = (command: string | undefined, what: string): string => {
    if (!command) throw new ConfigError(`services.manager is ${choice} but ${what} is not on agentd's PATH`);
    return command;
  };
  switch (choice) {
    case 'systemd': return systemdManager(need(systemctl(), 'systemctl'));
    case 'launchd': return launchdManager(need(launchctl(), 'launchctl'));
    case 'sysv':
      if (!host.isDirectory(cfg.initDir)) throw new ConfigError(`services.manager is sysv but services.initDir ${cfg.initDir} is not a directory`);
      return sysvManager(cfg.initDir);
    case 'auto': {
      if (host.platform === 'darwin' && launchctl()) return launchdManager(launchctl()!);
      const systemdRuns = host.pid1Name() === 'systemd' || host.exists('/run/systemd/system');
      if (systemdRuns && systemctl()) return systemdManager(systemctl()!);
      if (host.isDirectory(cfg.initDir)) return sysvManager(cfg.initDir);
      return NO_SERVICE_MANAGER;
    }
    default:
      throw new ConfigError(`services.manager must be one of ${SERVICE_MANAGER_CHOICES.join(', ')}, got ${JSON.stringify(cfg.manager)}`);
  }
}
