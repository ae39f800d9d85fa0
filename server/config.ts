// The manager's configuration: defaults in one object (documented option by option in
// configs/manager.yaml), merged by lib/config.ts (flags > OPS_* env > YAML > defaults) and checked
// here so a bad value stops start-up with a message naming the option.
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { ConfigError, loadConfig, parseDuration } from '../lib/config.js';
import { AllowList } from '../lib/cidr.js';
import { parseHostPort } from '../lib/host-port.js';
import { parsePublicKey } from '../proto/release.js';

export const MANAGER_DEFAULTS = {
  dataDir: './data/manager',
  http: {
    host: '127.0.0.1',
    port: 8440,
    /** auto = HTTPS unless `host` is a loopback address (or when tlsCert is set); on; off. */
    tls: 'auto' as HttpTlsMode,
    /** The operator's certificate chain (PEM) and key; '' = a certificate from the manager's CA. */
    tlsCert: '',
    tlsKey: '',
    /** More DNS names or addresses for the manager's own certificate (what clients dial). */
    tlsAltNames: [] as string[],
  },
  grpc: {
    host: '0.0.0.0',
    port: 8441,
    /** host:port hostd dials; '' = `<hostname>:<grpc.port>`. */
    advertise: '',
  },
  database: {
    /** '' = SQLite file <dataDir>/manager.db; mysql://user:pass@host:port/db for MySQL/MariaDB. */
    url: '',
  },
  redis: {
    /** '' = one manager process, its own leader. redis://host:port[/db]: replicas elect a leader through it. */
    url: '',
    /** Keys of one cluster start with this; replicas sharing a Redis for two clusters need two prefixes. */
    prefix: 'opsctl:',
    /** A dead leader is replaced within about this long (ms). */
    leaseMs: 6000,
  },
  cluster: {
    /** Base64 of 32 bytes sealing the secrets replicas share in the database; required with redis.url, the same on every replica. */
    key: '',
  },
  auth: {
    /** '' = generated once and kept in <dataDir>/jwt.secret (mode 0600). */
    jwtSecret: '',
    tokenTtl: '12h',
    /** Lifetime of the tokens POST /oauth/token gives OAuth2 clients. */
    clientTokenTtl: '1h',
    /** How long a checked token is trusted before its session, user or role is read again (at most 5). */
    cacheSeconds: 5,
    /** Failed logins allowed per window, per user name and per source address. */
    loginLimit: { window: '5m', perUser: 10, perAddress: 50 },
  },
  secrets: {
    /** Base64 of 32 bytes encrypting secret task environment values; '' = generated once in <dataDir>/secrets.key. */
    key: '',
  },
  hostlink: {
    heartbeatSeconds: 30,
    metricsSeconds: 60,
    offlineAfterSeconds: 90,
    certificateDays: 365,
  },
  tasks: {
    outputLimitBytes: 1024 * 1024,
    maxStoredOutputBytes: 64 * 1024 * 1024,
    defaultTimeoutSeconds: 300,
  },
  files: {
    /** Largest file PUT /files accepts for upload (bytes). */
    maxUploadBytes: 8 * 1024 ** 3,
    /** Largest file a download task brings back from one node (bytes). */
    maxDownloadBytes: 1024 ** 3,
    /** Bytes of an upload sent down a host's stream per message. */
    chunkBytes: 256 * 1024,
    /** Bytes of an upload in flight to one host before it acknowledges (flow control). */
    windowBytes: 1024 * 1024,
    /** Stored files (uploads, downloaded copies) unused this long are deleted; 0 keeps them forever. */
    keepDays: 7,
  },
  metrics: {
    /** How long raw samples (one per host per hostlink.metricsSeconds) are kept. */
    rawRetention: '48h',
    /** How long 1-minute rollups (min/avg/max per metric) are kept. */
    minuteRetention: '30d',
    /** How long 1-hour rollups are kept. */
    hourRetention: '365d',
    /**
     * Seconds between samples of a host while anyone watches it live (GET /nodes/live, opsctl top);
     * the history still stores one sample per host per hostlink.metricsSeconds.
     */
    liveIntervalSeconds: 2,
    /** Bearer token GET /metrics (Prometheus) requires; '' = none. */
    scrapeToken: '',
    /** Addresses/CIDRs that may scrape GET /metrics; empty = loopback only unless scrapeToken is set. */
    scrapeAllow: [] as string[],
  },
  install: {
    /** Folder of the host bundles GET /bundles/<file> serves (npm run package); '' = <package>/dist-package. */
    bundleDir: '',
    /** https://host:port hosts fetch install.sh and bundles from; '' = https://<grpc.advertise host>:<http.port>. */
    url: '',
  },
  releases: {
    /**
     * Public keys whose signatures the manager accepts on an uploaded release (`ed25519:<base64>`,
     * the strings hostd.yaml trusts; `opsctl release keygen` prints one). The private keys stay
     * with the operators: the manager only verifies. Empty: every upload is refused (3002).
     */
    trustedKeys: [] as string[],
    /** Largest bundle an upload may carry (MiB); a manifest declaring more is refused (3006). */
    maxBundleMB: 512,
    /** Time a host gets to download and install a release, on top of the rollout's health wait, before it counts as failed. */
    updateAllowanceSeconds: 300,
  },
  schedules: {
    /** A cron firing more often than this (between any two of its next fires) is refused. */
    minIntervalSeconds: 60,
  },
  alerts: {
    /** A node offline (no heartbeat) this long raises node.offline. */
    offlineAfterSeconds: 120,
    /** A mount fuller than this (percent used) raises node.disk_full. */
    diskPercent: 90,
    /** Memory used above this percent for memoryForSeconds raises node.memory_high. */
    memoryPercent: 95,
    memoryForSeconds: 300,
    /** Cleared events older than this are deleted (hourly, by the leader); active ones stay. */
    clearedRetention: '90d',
    /** Each raise and clear is POSTed to every one of these, signed with its secret. */
    webhooks: [] as WebhookTarget[],
    /** Delivery attempts per webhook, the wait before the first retry (doubled each time) and per attempt. */
    webhookAttempts: 3,
    webhookRetryMs: 1000,
    webhookTimeoutMs: 5000,
    /** Deliveries waiting per webhook; when full the oldest is dropped (and logged). */
    webhookQueueSize: 1000,
  },
  log: { level: 'info' },
};

export type HttpTlsMode = 'auto' | 'on' | 'off';

export interface WebhookTarget { url: string; secret: string }

export type ManagerConfig = typeof MANAGER_DEFAULTS;

export interface LoadManagerConfigOptions {
  configFile?: string;
  flags?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
}

export function loadManagerConfig(opts: LoadManagerConfigOptions = {}): ManagerConfig {
  const config = loadConfig<ManagerConfig>({
    defaults: MANAGER_DEFAULTS,
    file: opts.configFile,
    fileRequired: opts.configFile !== undefined,
    env: opts.env,
    flags: opts.flags,
  });
  config.dataDir = resolve(config.dataDir);
  if (config.grpc.advertise === '') config.grpc.advertise = `${hostname()}:${config.grpc.port}`;
  validateManagerConfig(config);
  return config;
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new ConfigError(`config ${message}`);
}

/** The output column is MEDIUMTEXT on MySQL. */
export const MAX_OUTPUT_LIMIT_BYTES = 16 * 1024 * 1024 - 1;

/** A duration option (90s, 15m, 12h, 30d) longer than 0. */
function checkDuration(option: string, value: string): void {
  try {
    check(parseDuration(value) > 0, `${option} must be longer than 0s`);
  } catch (err) {
    const message = (err as Error).message;
    throw new ConfigError(message.startsWith('config ') ? message : `config ${option}: ${message}`);
  }
}

const isPort = (n: number) => Number.isInteger(n) && n >= 0 && n <= 65535;
const isPositiveInt = (n: number) => Number.isInteger(n) && n > 0;

export function validateManagerConfig(c: ManagerConfig): void {
  check(c.dataDir !== '', 'dataDir must not be empty');
  check(isPort(c.http.port), `http.port must be a port number (0-65535), got ${c.http.port}`);
  validateHttpTls(c.http);
  check(isPort(c.grpc.port), `grpc.port must be a port number (0-65535), got ${c.grpc.port}`);
  try {
    // Port 0 is allowed: with grpc.port 0 the bound port replaces it once the gateway listens.
    parseHostPort(c.grpc.advertise, 'grpc.advertise', { anyPort: true });
  } catch (err) {
    throw new ConfigError(`config ${(err as Error).message}`);
  }
  check(c.database.url === '' || /^(mysql|mariadb):\/\//.test(c.database.url),
    'database.url must be empty (SQLite) or mysql://user:pass@host:port/db');
  check(c.redis.url === '' || /^rediss?:\/\//.test(c.redis.url), 'redis.url must be empty or redis://host:port[/db]');
  check(c.redis.url === '' || c.database.url !== '', 'redis.url needs database.url: replicas share one MySQL/MariaDB database, not a SQLite file each');
  check(c.redis.url === '' || Buffer.from(c.cluster.key, 'base64').length === 32,
    'cluster.key must be base64 of 32 bytes when redis.url is set (e.g. `openssl rand -base64 32`; the same on every replica)');
  check(Number.isInteger(c.redis.leaseMs) && c.redis.leaseMs >= 1000 && c.redis.leaseMs <= 60_000, 'redis.leaseMs must be 1000-60000');
  for (const key of ['tokenTtl', 'clientTokenTtl', 'loginLimit.window'] as const) {
    checkDuration(`auth.${key}`, key === 'loginLimit.window' ? c.auth.loginLimit.window : c.auth[key]);
  }
  check(Number.isInteger(c.auth.cacheSeconds) && c.auth.cacheSeconds >= 0 && c.auth.cacheSeconds <= 5,
    `auth.cacheSeconds must be an integer from 0 to 5 (revocations must apply within seconds), got ${c.auth.cacheSeconds}`);
  check(isPositiveInt(c.auth.loginLimit.perUser), 'auth.loginLimit.perUser must be a positive integer');
  check(isPositiveInt(c.auth.loginLimit.perAddress), 'auth.loginLimit.perAddress must be a positive integer');
  check(c.secrets.key === '' || Buffer.from(c.secrets.key, 'base64').length === 32, 'secrets.key must be base64 of 32 bytes (openssl rand -base64 32), or empty to generate one');
  check(c.auth.jwtSecret === '' || c.auth.jwtSecret.length >= 32, 'auth.jwtSecret must be at least 32 characters (or empty to generate one)');
  for (const key of ['heartbeatSeconds', 'metricsSeconds', 'offlineAfterSeconds'] as const) {
    check(isPositiveInt(c.hostlink[key]), `hostlink.${key} must be a positive integer, got ${c.hostlink[key]}`);
  }
  // Fractions are allowed so tests can issue certificates that live a minute (hostd renews them).
  check(typeof c.hostlink.certificateDays === 'number' && c.hostlink.certificateDays >= 30 / 86_400,
    `hostlink.certificateDays must be a number of days of at least 30 seconds (0.00035), got ${c.hostlink.certificateDays}`);
  check(c.hostlink.offlineAfterSeconds > c.hostlink.heartbeatSeconds,
    'hostlink.offlineAfterSeconds must be longer than hostlink.heartbeatSeconds');
  check(isPositiveInt(c.tasks.outputLimitBytes) && c.tasks.outputLimitBytes <= MAX_OUTPUT_LIMIT_BYTES,
    `tasks.outputLimitBytes must be a positive integer of at most ${MAX_OUTPUT_LIMIT_BYTES} (16 MiB)`);
  check(isPositiveInt(c.tasks.maxStoredOutputBytes), 'tasks.maxStoredOutputBytes must be a positive integer');
  check(isPositiveInt(c.tasks.defaultTimeoutSeconds), 'tasks.defaultTimeoutSeconds must be a positive integer');
  for (const key of ['maxUploadBytes', 'maxDownloadBytes', 'chunkBytes', 'windowBytes'] as const) {
    check(isPositiveInt(c.files[key]), `files.${key} must be a positive integer, got ${c.files[key]}`);
  }
  for (const key of ['rawRetention', 'minuteRetention', 'hourRetention'] as const) checkDuration(`metrics.${key}`, c.metrics[key]);
  check(isPositiveInt(c.metrics.liveIntervalSeconds), `metrics.liveIntervalSeconds must be a positive integer, got ${c.metrics.liveIntervalSeconds}`);
  validateScrape(c.metrics);
  // gRPC refuses messages over 4 MiB by default; a chunk must leave room for its envelope.
  check(c.files.chunkBytes <= 1024 * 1024, 'files.chunkBytes must be at most 1048576 (1 MiB)');
  check(c.files.windowBytes >= c.files.chunkBytes, 'files.windowBytes must be at least files.chunkBytes');
  check(Number.isFinite(c.files.keepDays) && c.files.keepDays >= 0, `files.keepDays must be a number of days ≥ 0, got ${c.files.keepDays}`);
  validateInstall(c.install);
  validateReleases(c.releases);
  check(isPositiveInt(c.schedules.minIntervalSeconds), `schedules.minIntervalSeconds must be a positive integer, got ${c.schedules.minIntervalSeconds}`);
  validateAlerts(c.alerts);
}

function validateHttpTls(h: ManagerConfig['http']): void {
  check(['auto', 'on', 'off'].includes(h.tls), `http.tls must be auto, on or off, got ${JSON.stringify(h.tls)}`);
  check(typeof h.tlsCert === 'string' && typeof h.tlsKey === 'string', 'http.tlsCert and http.tlsKey must be file paths');
  check((h.tlsCert === '') === (h.tlsKey === ''), 'http.tlsCert and http.tlsKey go together: set both (the operator\'s certificate) or neither (one from the manager\'s CA)');
  check(!(h.tls === 'off' && h.tlsCert !== ''), 'http.tlsCert is set but http.tls is off: remove the files or set http.tls to on or auto');
  check(Array.isArray(h.tlsAltNames) && h.tlsAltNames.every((n) => typeof n === 'string' && /^[A-Za-z0-9.:_-]+$/.test(n)),
    `http.tlsAltNames must be a list of DNS names or IP addresses, got ${JSON.stringify(h.tlsAltNames)}`);
}

function validateInstall(i: ManagerConfig['install']): void {
  check(typeof i.bundleDir === 'string', 'install.bundleDir must be a folder path (or empty for <package>/dist-package)');
  let url: URL | undefined;
  try { url = i.url === '' ? undefined : new URL(i.url); } catch { /* refused below */ }
  // The URL is written into install.sh and the command hosts run: nothing a shell would expand.
  check(i.url === '' || (url?.protocol === 'https:' && url.pathname === '/' && !url.search && /^https:\/\/[A-Za-z0-9.:[\]-]+\/?$/.test(i.url)),
    `install.url must be https://HOST[:PORT] (what hosts dial the manager's REST port by), got ${JSON.stringify(i.url)}`);
}

function validateScrape(m: ManagerConfig['metrics']): void {
  check(typeof m.scrapeToken === 'string', 'metrics.scrapeToken must be a string');
  check(m.scrapeToken === '' || m.scrapeToken.length >= 16, 'metrics.scrapeToken must be at least 16 characters (or empty for none)');
  check(Array.isArray(m.scrapeAllow), `metrics.scrapeAllow must be a list of addresses or CIDRs, got ${JSON.stringify(m.scrapeAllow)}`);
  try {
    AllowList.parse(m.scrapeAllow, 'metrics.scrapeAllow');
  } catch (err) {
    throw new ConfigError(`config ${(err as Error).message}`);
  }
}

function validateReleases(r: ManagerConfig['releases']): void {
  check(Array.isArray(r.trustedKeys), 'releases.trustedKeys must be a list of "ed25519:<base64>" public keys');
  for (const key of r.trustedKeys) {
    try { parsePublicKey(key); } catch (err) { throw new ConfigError(`config releases.trustedKeys: ${(err as Error).message} (got ${JSON.stringify(String(key).slice(0, 80))})`); }
  }
  check(isPositiveInt(r.maxBundleMB), `releases.maxBundleMB must be a positive integer, got ${r.maxBundleMB}`);
  check(isPositiveInt(r.updateAllowanceSeconds), `releases.updateAllowanceSeconds must be a positive integer, got ${r.updateAllowanceSeconds}`);
}

function validateAlerts(a: ManagerConfig['alerts']): void {
  checkDuration('alerts.clearedRetention', a.clearedRetention);
  for (const key of ['offlineAfterSeconds', 'memoryForSeconds', 'webhookAttempts', 'webhookRetryMs', 'webhookTimeoutMs', 'webhookQueueSize'] as const) {
    check(isPositiveInt(a[key]), `alerts.${key} must be a positive integer, got ${a[key]}`);
  }
  for (const key of ['diskPercent', 'memoryPercent'] as const) {
    check(Number.isFinite(a[key]) && a[key] > 0 && a[key] <= 100, `alerts.${key} must be a percentage above 0 and at most 100, got ${a[key]}`);
  }
  a.webhooks.forEach((w, i) => {
    const at = `alerts.webhooks[${i}]`;
    check(w !== null && typeof w === 'object' && !Array.isArray(w), `${at} must be a mapping {url, secret}, got ${JSON.stringify(w)}`);
    const extra = Object.keys(w).filter((k) => k !== 'url' && k !== 'secret');
    check(extra.length === 0, `${at} has unknown option "${extra[0]}" (only url and secret)`);
    let url: URL | undefined;
    try { url = new URL(w.url); } catch { /* refused below */ }
    check(url !== undefined && (url.protocol === 'http:' || url.protocol === 'https:'), `${at}.url must be an http:// or https:// URL, got ${JSON.stringify(w.url)}`);
    check(typeof w.secret === 'string' && w.secret.length >= 16, `${at}.secret must be a string of at least 16 characters (receivers check the signature with it)`);
  });
}
