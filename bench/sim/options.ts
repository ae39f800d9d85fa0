// The simulator's command line, declared once as data (lib/daemon-cli.ts): parsing and --help.
import { COMMON_FLAGS, daemonHelp, parseDaemonArgs, UsageError, type DaemonFlag, type DaemonSpec } from '../../lib/daemon-cli.js';
import { parseHostPort } from '../../lib/host-port.js';

const common = (name: string) => COMMON_FLAGS.find((f) => f.name === name)!;
const flag = (name: string, valueName: string | undefined, description: string): DaemonFlag =>
  ({ name, type: valueName ? 'string' : 'boolean', ...(valueName ? { valueName } : {}), description });

export const SIM_SPEC: DaemonSpec = {
  name: 'opsctl-sim',
  summary: 'simulated hosts on real host-link streams, for load-testing a manager',
  description: [
    'Each simulated host is a real host-link client: it enrolls with the token and its own key and',
    'CSR (Enroll RPC), keeps its key and certificate under --dir, and opens one Connect stream with',
    'its own client certificate (mutual TLS, TLS 1.3), like hostd. It says hello, heartbeats and',
    'sends metrics on the intervals the welcome gives (the first spread over the interval), honours',
    'SetSampling, answers every dispatch (of any kind) with started, output lines and exit, keeps',
    'events until the manager acknowledges them and re-sends them after a reconnect. Nothing runs.',
    'An UpdateHost is answered like hostd: the bundle is fetched over FetchRelease, its size and SHA-256',
    'checked, then the host restarts its stream and says hello with the new version (RevertHost too).',
    'A second start with the same --dir reconnects the same nodes without enrolling (no token).',
    'Enrolling N hosts needs a token with N uses: opsctl nodes token create --uses N --ttl 1h.',
    'Host i (from --start) is named PREFIX + i zero-padded to 5 digits and runs in worker i % --procs.',
    'stdout: one JSON line per --report-ms ({"t":"progress",...}), {"t":"ready",...} once every host',
    'is welcomed, {"t":"final",...} on exit. Logs go to stderr. SIGINT/SIGTERM close every stream.',
    'Exit code: 0, or 1 when a host could not enroll (refused token, held name), 2 for a usage error.',
  ].join('\n'),
  flags: [
    flag('manager', 'HOST:PORT', "the manager's host-link (gRPC) address"),
    flag('hosts', 'N', 'how many hosts to simulate (default 100)'),
    flag('start', 'N', 'index of the first host (default 1): two sims with disjoint ranges can share a manager'),
    flag('prefix', 'TEXT', 'node name prefix (default sim-): names sim-00001, sim-00002, ...'),
    flag('procs', 'P', 'worker processes (default 1); host i runs in worker i % P'),
    flag('dir', 'DIR', 'where identities are kept, one JSON file per host (default .sim)'),
    flag('token-file', 'FILE', 'file holding an enrollment token with enough uses (or $OPS_ENROLL_TOKEN); not needed once enrolled'),
    flag('ca-hash', 'SHA256HEX', "trust the manager's CA whose certificate has this SHA-256 (printed by opsctl nodes token create)"),
    flag('ca-file', 'FILE', "the manager's CA certificate (PEM); kept in --dir as ca.crt for later starts"),
    flag('prepare', undefined, 'only generate a key for each host that has none (in parallel across --procs), then exit; a later enrollment storm then measures the manager, not RSA key generation'),
    flag('key-pool', 'K', 'hosts without a prepared key share K keys kept in --dir/key-pool (each host still gets its own certificate); fast, less realistic'),
    flag('rate', 'N', 'new enrollments per second, and new connections per second, over all workers (default: unlimited)'),
    flag('concurrency', 'N', 'connections in flight (not yet welcomed) per worker (default 500)'),
    flag('enroll-concurrency', 'N', 'enrollments in flight per worker (default 64): a request that waits past its 60 s deadline is retried and then held (its name is taken), so a slow manager needs fewer'),
    flag('latency', 'MS[-MS]', 'delay before started and before exit of each run (default 0)'),
    flag('output-lines', 'N', 'output lines per run (default 1)'),
    flag('output-bytes', 'N', 'bytes per output line, padded (default: the line as it is)'),
    flag('fail-rate', 'R', 'share of runs, 0..1, that exit with code 1'),
    flag('never-answer-rate', 'R', 'share of dispatches, 0..1, accepted and never answered (the manager times them out)'),
    flag('disconnect-rate', 'R', 'share of runs, 0..1, whose stream is cut after started; the host reconnects with backoff and re-sends'),
    flag('malformed-rate', 'R', 'share of runs, 0..1, preceded by junk: events of unknown runs and of another host\'s run, empty messages, a repeated started, output seqs swapped'),
    flag('update-fail', 'NAMES', 'these hosts (comma-separated names) fail every update: they download and check it, then report rolled-back'),
    flag('update-fail-rate', 'R', 'share of hosts, 0..1, that fail every update (chosen by index, the same on every start)'),
    flag('release-key', 'KEYS', 'trusted release keys (ed25519:..., comma-separated): an UpdateHost must be signed by one, as hostd checks; default: the manifest is only parsed'),
    flag('hello-flood', 'N', 'the first host opens N more Connect streams with its certificate in a burst once welcomed'),
    flag('report-ms', 'MS', 'how often the progress line is printed (default 1000)'),
    flag('exit-when-connected', undefined, 'exit once every host is welcomed (or refused)'),
    flag('duration', 'SECONDS', 'stop after this long'),
    common('log-level'),
    common('help'),
  ],
  examples: [
    'opsctl nodes token create --uses 5000 --ttl 1h --json > token.json',
    'jq -r .token token.json > token.txt',
    'npm run sim -- --manager 127.0.0.1:8441 --hosts 5000 --procs 2 --token-file token.txt --ca-hash "$(jq -r .caHash token.json)"',
    'node dist/bench/sim/main.js --dir .sim --hosts 20000 --procs 4 --prepare',
    'node dist/bench/sim/main.js --manager 127.0.0.1:8441 --dir .sim --hosts 5000 --exit-when-connected',
  ],
  files: [{ path: 'DIR/hosts/NAME.json', description: 'a host\'s key, certificate and node id' }, { path: 'DIR/ca.crt', description: "the manager's CA" }],
};

export interface Latency { min: number; max: number }

export interface SimOptions {
  manager: string;
  hosts: number;
  start: number;
  prefix: string;
  procs: number;
  dir: string;
  tokenFile?: string;
  caHash?: string;
  caFile?: string;
  prepare: boolean;
  keyPool: number;
  rate: number;
  concurrency: number;
  enrollConcurrency: number;
  latency: Latency;
  outputLines: number;
  outputBytes: number;
  failRate: number;
  neverAnswerRate: number;
  disconnectRate: number;
  malformedRate: number;
  helloFlood: number;
  updateFail: string[];
  updateFailRate: number;
  releaseKeys: string[];
  reportMs: number;
  exitWhenConnected: boolean;
  durationSeconds: number;
  logLevel: string;
}

function whole(values: Record<string, unknown>, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}, got "${String(raw)}"`);
  return n;
}

function share(values: Record<string, unknown>, name: string): number {
  const raw = values[name];
  if (raw === undefined) return 0;
  const n = Number(raw);
  if (raw === '' || !(n >= 0 && n <= 1)) throw new UsageError(`--${name} must be a number from 0 to 1, got "${String(raw)}"`);
  return n;
}

export function parseLatency(raw: string | undefined): Latency {
  if (raw === undefined) return { min: 0, max: 0 };
  const m = /^(\d+)(?:-(\d+))?$/.exec(raw.trim());
  const min = m ? Number(m[1]) : NaN;
  const max = m ? Number(m[2] ?? m[1]) : NaN;
  if (!m || max < min) throw new UsageError(`--latency must be MS or MIN-MAX in milliseconds (e.g. 50 or 10-200), got "${raw}"`);
  return { min, max };
}

/** The options, or 'help'; a UsageError names what is wrong. */
export function parseSimArgs(argv: string[]): SimOptions | 'help' {
  const { values } = parseDaemonArgs(SIM_SPEC, argv);
  if (values.help) return 'help';
  const prepare = values.prepare === true;
  const manager = String(values.manager ?? '');
  if (!prepare) {
    if (!manager) throw new UsageError('--manager HOST:PORT is required (the manager\'s host-link address)');
    try { parseHostPort(manager, '--manager'); } catch (err) { throw new UsageError((err as Error).message); }
  }
  const prefix = String(values.prefix ?? 'sim-');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/.test(prefix)) throw new UsageError(`--prefix must start with a letter or digit and hold only letters, digits, '.', '_' or '-', got "${prefix}"`);
  return {
    manager, prefix, prepare,
    hosts: whole(values, 'hosts', 100, 1, 1_000_000),
    start: whole(values, 'start', 1, 0),
    procs: whole(values, 'procs', 1, 1, 64),
    dir: String(values.dir ?? '.sim'),
    tokenFile: values['token-file'] as string | undefined,
    caHash: values['ca-hash'] as string | undefined,
    caFile: values['ca-file'] as string | undefined,
    keyPool: whole(values, 'key-pool', 0, 1),
    rate: whole(values, 'rate', 0, 1),
    concurrency: whole(values, 'concurrency', 500, 1),
    enrollConcurrency: whole(values, 'enroll-concurrency', 64, 1),
    latency: parseLatency(values.latency as string | undefined),
    outputLines: whole(values, 'output-lines', 1, 0, 100_000),
    outputBytes: whole(values, 'output-bytes', 0, 1, 4 * 1024 * 1024),
    failRate: share(values, 'fail-rate'),
    neverAnswerRate: share(values, 'never-answer-rate'),
    disconnectRate: share(values, 'disconnect-rate'),
    malformedRate: share(values, 'malformed-rate'),
    helloFlood: whole(values, 'hello-flood', 0, 1, 100_000),
    updateFail: String(values['update-fail'] ?? '').split(',').map((x) => x.trim()).filter(Boolean),
    updateFailRate: share(values, 'update-fail-rate'),
    releaseKeys: String(values['release-key'] ?? '').split(',').map((x) => x.trim()).filter(Boolean),
    reportMs: whole(values, 'report-ms', 1000, 50),
    exitWhenConnected: values['exit-when-connected'] === true,
    durationSeconds: whole(values, 'duration', 0, 1),
    logLevel: String(values['log-level'] ?? 'warn'),
  };
}

export function simHelp(): string {
  return daemonHelp(SIM_SPEC);
}

/** Host i's node name: stable whatever --hosts is, so a later start finds the same identities. */
export function hostName(prefix: string, index: number): string {
  return prefix + String(index).padStart(5, '0');
}
