// hostd's configuration: the defaults object (the one place they live; configs/hostd.yaml
// documents each option) and the checks that make a bad value fail at start-up, not mid-run.
import { hostname } from 'node:os';
import { ConfigError, loadConfig } from '../lib/config.js';
import { parseHostPort } from '../lib/host-port.js';
import { agentdScript } from '../lib/version.js';
import { labelKeyProblem, labelValueProblem } from '../proto/labels.js';

export const HOSTD_DEFAULTS = {
  log: { level: 'info' },
  dataDir: './data/hostd',
  manager: {
    /** HOST:PORT of the manager's gRPC host link; remembered in node.json after enrollment. */
    address: '',
    caFile: '',
    caHash: '',
  },
  enroll: { token: '' },
  /** Empty name = this machine's host name. */
  node: { name: '' },
  /** Labels this host declares (Kubernetes' rules); the manager lets an operator's label of the same key win. */
  labels: {} as Record<string, string>,
  agent: {
    listen: '127.0.0.1:8442',
    /** Program and arguments that start agentd; empty = this Node running this package's bin/agentd.js (agentd.mjs in a host bundle). */
    command: [] as string[],
    maxConcurrent: 10,
    stopOnExit: false,
    /** How long a new run waits for an agentd that refuses connections (starting or restarting). */
    startWaitSeconds: 20,
    /** Over one of these agentd is restarted; 0 = no limit. */
    limits: { memoryMB: 0, cpuPercent: 0, cpuWindowSeconds: 60 },
  },
  metrics: { intervalSeconds: 60 },
  heartbeatSeconds: 30,
  reconnect: { minSeconds: 1, maxSeconds: 60 },
  /** Task events the manager has not acknowledged, on disk; beyond this the oldest output is dropped. */
  spool: { maxBytes: 64 * 1024 * 1024 },
  update: {
    /** Release keys (`ed25519:<base64>`) whose signatures this host accepts; empty = no update is accepted. */
    trustedKeys: [] as string[],
    /** Past the health window, how long a new hostd may take to start before the launcher's watchdog reverts it. */
    startGraceSeconds: 30,
  },
};

export type HostdConfig = typeof HOSTD_DEFAULTS;

/** The agentd command line without hostd's own flags. */
export function agentCommand(cfg: HostdConfig): string[] {
  return cfg.agent.command.length > 0 ? cfg.agent.command : [process.execPath, agentdScript()];
}

export function loadHostdConfig(file: string | undefined, flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): HostdConfig {
  const cfg = loadConfig({ defaults: HOSTD_DEFAULTS, file, fileRequired: file !== undefined, env, flags });
  if (!cfg.node.name) cfg.node.name = hostname();
  validateHostdConfig(cfg);
  return cfg;
}

export function validateHostdConfig(cfg: HostdConfig): void {
  parseHostPort(cfg.agent.listen, 'agent.listen');
  if (cfg.manager.address) parseHostPort(cfg.manager.address, 'manager.address');
  if (cfg.manager.caHash && !/^[0-9a-fA-F]{64}$/.test(cfg.manager.caHash.replace(/:/g, ''))) {
    throw new ConfigError(`manager.caHash must be 64 hex digits (the SHA-256 of the CA certificate), got "${cfg.manager.caHash}"`);
  }
  if (!cfg.dataDir) throw new ConfigError('dataDir must not be empty');
  if (!cfg.node.name) throw new ConfigError('node.name must not be empty');
  const labelProblems = Object.entries(cfg.labels).flatMap(([key, value]) => [labelKeyProblem(key), labelValueProblem(key, value)].filter((p): p is string => !!p));
  if (labelProblems.length > 0) throw new ConfigError(`labels: ${labelProblems.join('; ')}`);
  const wholeAtLeast = (key: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new ConfigError(`${key} must be a whole number ≥ ${min}, got ${v}`);
  };
  wholeAtLeast('agent.maxConcurrent', cfg.agent.maxConcurrent, 1);
  wholeAtLeast('agent.startWaitSeconds', cfg.agent.startWaitSeconds, 0);
  wholeAtLeast('agent.limits.memoryMB', cfg.agent.limits.memoryMB, 0);
  if (!(cfg.agent.limits.cpuPercent >= 0)) throw new ConfigError(`agent.limits.cpuPercent must be ≥ 0, got ${cfg.agent.limits.cpuPercent}`);
  wholeAtLeast('agent.limits.cpuWindowSeconds', cfg.agent.limits.cpuWindowSeconds, 1);
  wholeAtLeast('metrics.intervalSeconds', cfg.metrics.intervalSeconds, 1);
  wholeAtLeast('heartbeatSeconds', cfg.heartbeatSeconds, 1);
  wholeAtLeast('spool.maxBytes', cfg.spool.maxBytes, 65536);
  wholeAtLeast('update.startGraceSeconds', cfg.update.startGraceSeconds, 1);
  // parsePublicKey's rule (proto/release.ts), without loading tweetnacl at every start.
  for (const key of cfg.update.trustedKeys) {
    if (!/^ed25519:[A-Za-z0-9+/]{43}=$/.test(key)) throw new ConfigError(`update.trustedKeys: release public key must be "ed25519:" and 32 bytes in base64, got "${key}"`);
  }
  if (!(cfg.reconnect.minSeconds > 0)) throw new ConfigError(`reconnect.minSeconds must be > 0, got ${cfg.reconnect.minSeconds}`);
  if (!(cfg.reconnect.maxSeconds >= cfg.reconnect.minSeconds)) {
    throw new ConfigError(`reconnect.maxSeconds (${cfg.reconnect.maxSeconds}) must be ≥ reconnect.minSeconds (${cfg.reconnect.minSeconds})`);
  }
}
