// agentd's entry point: parse flags, load config, check the keys file, then run the subsystems
// (pid file, HTTP API with the executor, hostd link) until SIGTERM/SIGINT or agent.shutdown.
// Exit codes: 0 clean stop, 1 failure at start or run, 2 usage error.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../lib/config.js';
import { daemonHelp, parseDaemonArgs, UsageError } from '../lib/daemon-cli.js';
import { createLogger, type Logger } from '../lib/log.js';
import { RunGroup } from '../lib/run-group.js';
import { opsVersion } from '../lib/version.js';
import { PidFile } from '../proto/pid-file.js';
import { ApiServer } from './api-server.js';
import { AGENTD_SPEC } from './cli-spec.js';
import { loadAgentdConfig, parseListen, type AgentdConfig } from './config.js';
import { AgentExecutor } from './exec/executor.js';
import { detectServiceManager, type ServiceManager } from './exec/service-managers.js';
import { HostdLink } from './hostd-link.js';
import { buildAgentApp } from './http/app.js';
import { StreamTracker } from './http/stream-tracker.js';
import { AllowList } from './ip-allow.js';
import { KeyStore } from './keys.js';
import { loadPlugins, type PluginSet } from './plugins/loader.js';
import { fileRoots, openNonceStore, openRunLedger } from './state.js';

/** How long running scripts get to finish on SIGTERM/SIGINT or agent.shutdown. */
export const SHUTDOWN_GRACE_MS = 10_000;

function readTls(cfg: AgentdConfig): { cert: Buffer; key: Buffer } | undefined {
  if (!cfg.http.tlsCert) return undefined;
  try {
    return { cert: readFileSync(cfg.http.tlsCert), key: readFileSync(cfg.http.tlsKey) };
  } catch (err) {
    throw new ConfigError(`reading http.tlsCert/http.tlsKey: ${(err as Error).message}`);
  }
}

export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseDaemonArgs(AGENTD_SPEC, argv);
  } catch (err) {
    if (err instanceof UsageError) { process.stderr.write(`agentd: ${err.message}\n`); return 2; }
    throw err;
  }
  if (args.values.help) { process.stdout.write(daemonHelp(AGENTD_SPEC)); return 0; }
  if (args.values.version) { process.stdout.write(`agentd ${opsVersion()}\n`); return 0; }

  let cfg: AgentdConfig;
  let log: Logger;
  let keys: KeyStore;
  let allow: AllowList;
  let tls: { cert: Buffer; key: Buffer } | undefined;
  let plugins: PluginSet;
  let serviceManager: ServiceManager;
  try {
    cfg = loadAgentdConfig(args.values.config as string | undefined, args.configFlags);
    log = createLogger({ component: 'agentd', level: cfg.log.level });
    allow = new AllowList(cfg.http.allow);
    keys = new KeyStore(cfg.auth.keysFile, log);
    tls = readTls(cfg);
    plugins = await loadPlugins(cfg.plugins.dir, log);
    serviceManager = detectServiceManager(cfg.services);
  } catch (err) {
    // ConfigError, KeysFileError, a bad http.allow entry, log level or plugins.dir: say what is wrong, exit 1.
    process.stderr.write(`agentd: ${(err as Error).message}\n`);
    return 1;
  }
  return runAgentd(cfg, log, keys, allow, plugins, serviceManager, tls);
}

async function runAgentd(
  cfg: AgentdConfig, log: Logger, keys: KeyStore, allow: AllowList, plugins: PluginSet, serviceManager: ServiceManager, tls?: { cert: Buffer; key: Buffer },
): Promise<number> {
  const startedAtMs = Date.now();
  const executor = new AgentExecutor({
    maxConcurrent: cfg.tasks.maxConcurrent,
    defaultTimeoutMs: cfg.tasks.defaultTimeoutSeconds * 1000,
    outputChunkBytes: cfg.tasks.outputChunkBytes,
    log,
    ledger: openRunLedger(cfg, log),
    fileRoots: fileRoots(cfg),
    minFreeBytes: cfg.files.minFreeBytes,
    plugins,
    serviceManager,
  });
  const streams = new StreamTracker();
  const app = buildAgentApp({ executor, lookupSecret: (id) => keys.lookup(id), allow, log, tls, startedAtMs, streams, nonces: openNonceStore(cfg) });
  const api = new ApiServer(app, parseListen(cfg.http.listen), () => executor.shutdown(SHUTDOWN_GRACE_MS), streams);
  const group = new RunGroup(log);
  if (cfg.pidFile) group.add(new PidFile(cfg.pidFile));
  group.add(api);
  if (cfg.hostd.socket) {
    group.add(new HostdLink({
      socketPath: cfg.hostd.socket,
      heartbeatSeconds: cfg.heartbeatSeconds,
      log,
      status: () => ({
        version: opsVersion(),
        pid: process.pid,
        httpAddress: api.address,
        running: executor.running,
        queued: executor.queued,
        uptimeSeconds: Math.floor((Date.now() - startedAtMs) / 1000),
        capabilities: executor.capabilities(),
        lostRuns: [...executor.lostRuns],
      }),
      onShutdown: () => void group.stop(0),
    }));
  }
  group.handleSignals();
  try {
    await group.start();
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'agentd failed to start');
    process.stderr.write(`agentd: ${(err as Error).message}\n`);
    await flushLog(log);
    return 1;
  }
  log.info({ listen: api.address, tls: Boolean(tls), hostdSocket: cfg.hostd.socket || null, maxConcurrent: cfg.tasks.maxConcurrent, serviceManager: serviceManager.name, keyCount: keys.size }, 'agentd started');
  const code = await group.done;
  log.info({ code }, 'agentd stopped');
  await flushLog(log);
  return code;
}

function flushLog(log: Logger): Promise<void> {
  return new Promise((resolve) => log.flush(() => resolve()));
}
