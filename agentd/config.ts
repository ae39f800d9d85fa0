// agentd's configuration: the defaults object (the one place they live; configs/agentd.yaml
// documents each option) and the checks that make a bad value fail at start-up, not mid-run.
import { isAbsolute, resolve } from 'node:path';
import { ConfigError, loadConfig } from '../lib/config.js';
import { parseHostPort, type HostPort } from '../lib/host-port.js';

/** services.manager: auto detects the host's (agentd/exec/service-managers.ts). */
export const SERVICE_MANAGER_CHOICES = ['auto', 'systemd', 'sysv', 'launchd'] as const;
export type ServiceManagerChoice = (typeof SERVICE_MANAGER_CHOICES)[number];

export const AGENTD_DEFAULTS = {
  log: { level: 'info' },
  pidFile: '',
  /** Where the accepted-request nonces and the running runs are kept; '' = the keys file's folder. */
  stateDir: '',
  heartbeatSeconds: 30,
  http: {
    listen: '127.0.0.1:8442',
    allow: ['127.0.0.1/32', '::1/128'],
    tlsCert: '',
    tlsKey: '',
  },
  auth: { keysFile: '' },
  hostd: { socket: '' },
  tasks: {
    maxConcurrent: 10,
    defaultTimeoutSeconds: 300,
    outputChunkBytes: 16384,
  },
  files: {
    /** Folders file tasks may touch; [] = <stateDir>/files only. */
    roots: [] as string[],
    /** Uploads and copies that would leave less free space than this are refused. */
    minFreeBytes: 64 * 1024 * 1024,
  },
  /** Executor plugins: one folder per plugin; '' = none (checked at start by agentd/plugins/loader.ts). */
  plugins: { dir: '' },
  services: {
    /** auto | systemd | sysv | launchd (exec/service-managers.ts). */
    manager: 'auto',
    initDir: '/etc/init.d',
  },
};

export type AgentdConfig = typeof AGENTD_DEFAULTS;

export type ListenAddress = HostPort;

/** `127.0.0.1:8442`, `[::1]:8442`, `:8442` (all interfaces), port 0 (any free one) → host and port. */
export function parseListen(value: string): ListenAddress {
  return parseHostPort(value, 'http.listen', { anyPort: true, emptyHost: '0.0.0.0' });
}

export function loadAgentdConfig(file: string | undefined, flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): AgentdConfig {
  const cfg = loadConfig({ defaults: AGENTD_DEFAULTS, file, fileRequired: file !== undefined, env, flags });
  validateAgentdConfig(cfg);
  return cfg;
}

export function validateAgentdConfig(cfg: AgentdConfig): void {
  parseListen(cfg.http.listen);
  const positiveInt = (key: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${key} must be a whole number ≥ 1, got ${v}`);
  };
  positiveInt('tasks.maxConcurrent', cfg.tasks.maxConcurrent);
  positiveInt('tasks.defaultTimeoutSeconds', cfg.tasks.defaultTimeoutSeconds);
  positiveInt('tasks.outputChunkBytes', cfg.tasks.outputChunkBytes);
  positiveInt('heartbeatSeconds', cfg.heartbeatSeconds);
  if (!Number.isInteger(cfg.files.minFreeBytes) || cfg.files.minFreeBytes < 0) throw new ConfigError(`files.minFreeBytes must be a whole number ≥ 0, got ${cfg.files.minFreeBytes}`);
  for (const root of cfg.files.roots) {
    if (!isAbsolute(root)) throw new ConfigError(`files.roots: ${root} is not an absolute path`);
    if (resolve(root) === '/') throw new ConfigError('files.roots: / would let file tasks touch every file; name the folders they may use');
  }
  if (Boolean(cfg.http.tlsCert) !== Boolean(cfg.http.tlsKey)) {
    throw new ConfigError('http.tlsCert and http.tlsKey must be set together (or neither, for plain HTTP)');
  }
  if (!(SERVICE_MANAGER_CHOICES as readonly string[]).includes(cfg.services.manager)) {
    throw new ConfigError(`services.manager must be one of ${SERVICE_MANAGER_CHOICES.join(', ')}, got ${JSON.stringify(cfg.services.manager)}`);
  }
  if (!isAbsolute(cfg.services.initDir)) throw new ConfigError(`services.initDir must be an absolute path, got ${JSON.stringify(cfg.services.initDir)}`);
  if (!cfg.auth.keysFile) {
    throw new ConfigError('no keys file: set --keys-file or auth.keysFile (JSON {"keys": {"<keyId>": "<secret hex>"}}, mode 0600)');
  }
}
