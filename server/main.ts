// Starts the manager: config, database (migrations), first admin, host link gateway, REST API.
// `opsctl server` calls runManager() and owns the signals; stop() closes everything in order.
import { profileOnSignal } from '../lib/profile-on-signal.js';
import { join } from 'node:path';
import { createLogger, type Logger } from '../lib/log.js';
import { buildApp } from './app.js';
import { PRIVATE_UMASK, secureDataDir } from './data-dir.js';
import { loadManagerConfig, type ManagerConfig } from './config.js';
import { SqliteCheckpoints } from './db/sqlite-checkpoints.js';
import { databaseTarget, openOrm, runMigrations, type Orm } from './db/orm.js';
import { HostLinkGateway } from './hostlink/gateway.js';
import { listenerUrl, loadHttpsMaterial } from './http/https.js';
import { createServices, DeferredHostSessions, type ManagerServices } from './services.js';
import { openReplication } from './replicas/replica.js';
import { adoptSharedSecrets } from './replicas/shared-secrets.js';
import { ReplicatedSessions } from './replicas/replicated-sessions.js';
import { relayFromReplicas } from './replicas/relay.js';

export interface RunManagerOptions {
  configFile?: string;
  /** Values by dotted config key (e.g. {'http.port': 0}). */
  flags?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** Defaults to a pino logger on stdout at log.level. */
  log?: Logger;
}

export interface RunningManager {
  stop(): Promise<void>;
  httpUrl: string;
  /** Set when the REST API serves HTTPS (http.tls). */
  https?: {
    /** SHA256:hex of the CA `opsctl login` pins (undefined: the operator's chain stops below its root). */
    caFingerprint?: string;
    /** curl --pinnedpubkey value of the serving certificate (server/http/https.ts spkiPin). */
    spkiPin: string;
  };
  /** host:port hostd dials (grpc.advertise). */
  grpcAddress: string;
  /** Set on the very first start only: the generated admin account. */
  initialAdmin?: { username: string; password: string };
  config: ManagerConfig;
  /** The services the REST API and the host link share; tests drive `hostLink` to play hosts. */
  readonly services: ManagerServices;
}

export async function runManager(opts: RunManagerOptions = {}): Promise<RunningManager> {
  const config = loadManagerConfig({ configFile: opts.configFile, flags: opts.flags, env: opts.env });
  const log = opts.log ?? createLogger({ component: 'manager', level: config.log.level });
  profileOnSignal('manager', log);
  // Everything the manager writes (database, WAL, keys, secrets) is the operator's alone, even in
  // a data directory that was created with looser modes.
  process.umask(PRIVATE_UMASK);
  secureDataDir(config.dataDir);
  // Before the database: a missing, unreadable or mismatched key file stops start-up at once, naming it.
  const tls = loadHttpsMaterial(config);

  const target = databaseTarget(config.database.url, config.dataDir);
  const orm: Orm = await openOrm(target, log);
  const cleanup: (() => Promise<void>)[] = [async () => { await orm.close(true); }];
  const unwind = async () => { for (const step of cleanup.reverse()) await step().catch((err) => log.warn({ err }, 'cleanup failed')); };
  try {
    const applied = await runMigrations(orm);
    log.info({ database: target.kind, migrations: applied.length }, applied.length ? 'database migrated' : 'database schema is current');
    if (target.kind === 'sqlite') {
      const checkpoints = await SqliteCheckpoints.start(orm, target.dbName, log);
      if (checkpoints) cleanup.push(() => checkpoints.stop());
    }

    // Replicas share their secrets through the database (before anything reads them from the data directory).
    if (config.redis.url) await adoptSharedSecrets(orm, config, log);
    const replication = await openReplication(config, orm, log);
    cleanup.push(() => replication.stop());
    await replication.start();

    const sessions = new DeferredHostSessions();
    let gateway: HostLinkGateway | undefined;
    const services = await createServices({
      config, orm, log, sessions, restTls: tls && { spkiPin: tls.spkiPin }, leader: replication.leader, replica: replication.replica,
      caHash: () => {
        if (!gateway) throw new Error('host link gateway not started');
        return gateway.caHash();
      },
    });
    const initialAdmin = await services.users.ensureAdmin(config.dataDir);

    gateway = new HostLinkGateway({
      host: config.grpc.host,
      port: config.grpc.port,
      advertiseHost: config.grpc.advertise.replace(/:\d+$/, '').replace(/^\[|\]$/g, ''),
      pkiDir: join(config.dataDir, 'pki'),
      heartbeatSeconds: config.hostlink.heartbeatSeconds,
      metricsSeconds: config.hostlink.metricsSeconds,
      certificateDays: config.hostlink.certificateDays,
      backend: services.hostLink,
      log: log.child({ subsystem: 'hostlink' }),
    });
    const bus = replication.replica.bus;
    sessions.attach(bus ? new ReplicatedSessions(gateway.sessions, bus) : gateway.sessions);
    if (bus) await bus.start(relayFromReplicas(gateway.sessions, services, bus, log));
    await services.start();
    cleanup.push(() => services.stop());
    await gateway.start();
    if (config.grpc.advertise.endsWith(':0')) config.grpc.advertise = config.grpc.advertise.replace(/:0$/, `:${gateway.port}`);
    const gw = gateway;
    cleanup.push(() => gw.stop());

    const app = await buildApp({ config, orm, log, services, https: tls });
    await app.listen({ host: config.http.host, port: config.http.port });
    cleanup.push(() => app.close());
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.http.port;
    // As with grpc.port 0: the port hosts are told (install.url's default) is the one bound.
    config.http.port = port;
    const httpUrl = listenerUrl(tls !== undefined, config.http.host, port);
    const https = tls && { caFingerprint: tls.caFingerprint, spkiPin: tls.spkiPin };
    if (tls) log.info({ certificate: tls.source, caFingerprint: tls.caFingerprint, spkiPin: tls.spkiPin }, 'REST API serves HTTPS');
    log.info({ httpUrl, grpc: `${config.grpc.host}:${config.grpc.port}`, advertise: config.grpc.advertise, dataDir: config.dataDir }, 'manager started');

    let stopping: Promise<void> | undefined;
    return {
      httpUrl,
      https,
      grpcAddress: config.grpc.advertise,
      initialAdmin,
      config,
      services,
      // In order: stop accepting HTTP, close the host link, write buffered task output, close the database.
      stop: () => (stopping ??= (async () => {
        log.info('manager stopping');
        await unwind();
        log.info('manager stopped');
      })()),
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}
