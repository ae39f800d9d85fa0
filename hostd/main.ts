// hostd's entry point: parse flags, load config, enroll if needed, then run the daemon's
// subsystems (event spool, agent supervisor, task relay, manager link, certificate renewal) as one group until a
// signal or failure.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../lib/config.js';
import { daemonHelp, parseDaemonArgs, UsageError } from '../lib/daemon-cli.js';
import { createLogger, type Logger } from '../lib/log.js';
import { RunGroup } from '../lib/run-group.js';
import { readCmdline } from '../lib/process.js';
import { agentdScript, opsVersion } from '../lib/version.js';
import { HOSTD_SPEC } from './cli-spec.js';
import { agentCommand, loadHostdConfig, type HostdConfig } from './config.js';
import { EnrollError, ensureIdentity } from './enroll.js';
import { EventSpool } from './event-spool.js';
import { collectFacts, collectMetrics } from './facts.js';
import { ManagerLink } from './link.js';
import { CertificateRenewer } from './renewal.js';
import { TaskRelay } from './relay.js';
import { AgentSupervisor } from './supervisor.js';
import { findLayout } from './updater/layout.js';
import { RESTART_EXIT_CODE, Updater } from './updater/updater.js';
import { agentCompatibleRange, isAgentCompatible } from '../proto/agent-compat.js';
import { spawnSync } from 'node:child_process';

/** What `COMMAND --version` says its version is ("agentd 1.4.0"); undefined when it does not say. */
function askVersion(command: string[]): string | undefined {
  const r = spawnSync(command[0], [...command.slice(1), '--version'], { encoding: 'utf8', timeout: 10_000 });
  return /^agentd (\S+)$/m.exec(r.stdout ?? '')?.[1];
}

function flush(log: Logger): Promise<void> {
  return new Promise((resolve) => log.flush(() => resolve()));
}

export async function main(argv: string[]): Promise<number> {
  let cfg: HostdConfig;
  let log: Logger;
  try {
    const { values, configFlags } = parseDaemonArgs(HOSTD_SPEC, argv);
    if (values.help) { process.stdout.write(daemonHelp(HOSTD_SPEC)); return 0; }
    if (values.version) { process.stdout.write(`hostd ${opsVersion()}\n`); return 0; }
    cfg = loadHostdConfig(values.config as string | undefined, configFlags);
    try {
      log = createLogger({ component: 'hostd', level: cfg.log.level });
    } catch (err) {
      // A bad log.level is a configuration error like any other: one line, not a stack trace.
      throw new ConfigError((err as Error).message);
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`hostd: ${err.message}\n`);
      return 2;
    }
    throw err;
  }

  try {
    return await run(cfg, log);
  } catch (err) {
    const message = err instanceof EnrollError ? err.message : `hostd: ${(err as Error).message}`;
    log.error({ err }, 'hostd failed');
    await flush(log);
    process.stderr.write(`${message}\n`);
    return 1;
  }
}

async function run(cfg: HostdConfig, log: Logger): Promise<number> {
  try {
    mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new Error(`creating the data directory ${cfg.dataDir}: ${(err as Error).message}`, { cause: err });
  }
  const identity = await ensureIdentity(cfg, log);
  const address = cfg.manager.address || identity.managerAddress;
  if (!address) throw new EnrollError('no manager address: pass --manager HOST:PORT');

  const group = new RunGroup(log);
  const layout = findLayout();
  // In an installed bundle, agentd is this version's agentd.mjs: one left running by another
  // version's hostd (before an update or a revert) is replaced, not adopted.
  const ownAgent = typeof layout !== 'string' && cfg.agent.command.length === 0 ? agentdScript() : undefined;
  // First to start and last to stop: the relay and the link read it as they start, and events
  // still arrive while they stop.
  const spool = new EventSpool({ file: join(cfg.dataDir, 'event-spool.ndjson'), maxBytes: cfg.spool.maxBytes, log: log.child({ subsystem: 'spool' }) });
  const supervisor = new AgentSupervisor({
    dataDir: cfg.dataDir, listen: cfg.agent.listen, command: agentCommand(cfg), maxConcurrent: cfg.agent.maxConcurrent,
    logLevel: cfg.log.level, stopOnExit: cfg.agent.stopOnExit, log: log.child({ subsystem: 'supervisor' }),
    limits: cfg.agent.limits,
    incompatible: (agentVersion) => agentVersion === undefined || isAgentCompatible(opsVersion(), agentVersion) ? undefined
      : `agentd ${agentVersion} is outside the versions hostd ${opsVersion()} works with (${agentCompatibleRange(opsVersion())})`,
    // This hostd's own agentd (package or bundle) is its version by construction; a configured one is asked.
    commandVersion: cfg.agent.command.length > 0 ? () => askVersion(cfg.agent.command) : undefined,
    ownsAgent: ownAgent ? (pid) => readCmdline(pid)?.[1] === ownAgent : undefined,
  });
  let link: ManagerLink | undefined;
  const updater = new Updater({
    layout, trustedKeys: cfg.update.trustedKeys, startGraceSeconds: cfg.update.startGraceSeconds, agent: supervisor,
    fetch: (req) => { if (!link) throw new Error('no manager link'); return link.fetchRelease(req); },
    send: (report) => link?.sendUpdateReport(report), restart: () => void group.stop(RESTART_EXIT_CODE),
    log: log.child({ subsystem: 'updater' }),
  });
  const relay = new TaskRelay({
    agentAddress: cfg.agent.listen, secret: () => supervisor.hostdKey,
    emit: (event) => link?.sendTaskEvent(event),
    emitData: (event) => link ? link.sendTaskData(event) : Promise.reject(new Error('no manager link')),
    ack: (ack) => link?.sendFileAck(ack),
    spool, log: log.child({ subsystem: 'relay' }), agentWaitMs: cfg.agent.startWaitSeconds * 1000,
  });
  link = new ManagerLink({
    address, identity,
    heartbeatSeconds: cfg.heartbeatSeconds, metricsSeconds: cfg.metrics.intervalSeconds,
    reconnectMinSeconds: cfg.reconnect.minSeconds, reconnectMaxSeconds: cfg.reconnect.maxSeconds,
    agentStatus: () => supervisor.status(), agentVersion: () => supervisor.agentVersion,
    agentCapabilities: () => supervisor.capabilities,
    onDispatch: (d) => relay.dispatch(d), onCancel: (runId) => void relay.cancel(runId),
    onFileChunk: (chunk) => relay.fileChunk(chunk), onStreamLost: () => relay.linkLost(),
    collectFacts, collectMetrics, spool, labels: cfg.labels, log: log.child({ subsystem: 'link' }),
    onUpdateHost: (u) => updater.onUpdateHost(u), onRevertHost: (r) => updater.onRevertHost(r), lastUpdate: () => updater.lastReport(),
  });
  supervisor.on('status', () => link?.agentStatusChanged());
  supervisor.on('capabilities', () => link?.agentStatusChanged());
  supervisor.on('lost-runs', (runs: { runId: string; killed: boolean }[]) => relay.reportLost(runs));
  const renewer = new CertificateRenewer({
    address, dataDir: cfg.dataDir, identity, onRenewed: (renewed) => link?.useIdentity(renewed), log: log.child({ subsystem: 'renewal' }),
  });
  // The updater last: it may resume a health check, which needs agentd and the link up.
  group.add(spool).add(supervisor).add(relay).add(link).add(renewer).add(updater);
  group.handleSignals();
  log.info({ version: opsVersion(), updates: typeof layout === 'string' ? layout : `from ${layout.prefix}`, nodeId: identity.nodeId, nodeName: identity.nodeName, manager: address, dataDir: cfg.dataDir }, 'hostd starting');
  await group.start();
  const code = await group.done;
  log.info({ code }, 'hostd stopped');
  await flush(log);
  return code;
}
