// opsctl-sim: simulated hosts on real host-link streams, for load-testing a manager
// (`npm run sim -- --help`). This parent process resolves the manager's CA and the token, forks
// --procs workers (worker.ts), adds up their counters and prints one JSON line per --report-ms on
// stdout; SIGINT/SIGTERM stop the workers, which close their streams.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../lib/daemon-cli.js';
import { parseHostPort } from '../../lib/host-port.js';
import { caHashOfPem, fetchCaByHash, normalizeHash, readCaFile } from '../../hostd/trust.js';
import { caPath, ensureDirs, loadKeyPool, readCaIfKept } from './identities.js';
import { parseSimArgs, simHelp, type SimOptions } from './options.js';
import { addCounters, emptyCounters, ratePerSecond, type SimCounters, type WorkerMessage } from './stats.js';
import type { WorkerInit } from './worker.js';

const STOP_GRACE_MS = 10_000;

function fail(message: string, code: number): never {
  process.stderr.write(`opsctl-sim: ${message}\n`);
  process.exit(code);
}

/** The CA to trust: --ca-file, else the one kept in --dir, else fetched from the manager by --ca-hash. */
async function resolveCa(opts: SimOptions): Promise<string> {
  if (opts.caFile) return readCaFile(opts.caFile, opts.caHash);
  const kept = readCaIfKept(opts.dir);
  if (kept) {
    if (opts.caHash && caHashOfPem(kept) !== normalizeHash(opts.caHash)) {
      throw new UsageError(`${caPath(opts.dir)} does not match --ca-hash ${normalizeHash(opts.caHash)} (a --dir of another manager?)`);
    }
    return kept;
  }
  if (!opts.caHash) throw new UsageError(`no CA kept in ${opts.dir}: pass --ca-hash SHA256HEX (printed by opsctl nodes token create) or --ca-file FILE`);
  return fetchCaByHash(parseHostPort(opts.manager, '--manager'), opts.caHash);
}

function readToken(opts: SimOptions): string | undefined {
  if (opts.tokenFile) {
    let token: string;
    try {
      token = readFileSync(opts.tokenFile, 'utf8').trim();
    } catch (err) {
      throw new UsageError(`reading --token-file ${opts.tokenFile}: ${(err as Error).message}`);
    }
    if (!token) throw new UsageError(`--token-file ${opts.tokenFile} is empty`);
    return token;
  }
  return process.env.OPS_ENROLL_TOKEN || undefined;
}

async function main(): Promise<void> {
  let opts: SimOptions | 'help';
  try {
    opts = parseSimArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) fail(err.message, 2);
    throw err;
  }
  if (opts === 'help') {
    process.stdout.write(simHelp());
    return;
  }
  const o = opts;
  ensureDirs(o.dir);
  let caPem = '';
  let token: string | undefined;
  if (!o.prepare) {
    try {
      token = readToken(o);
      caPem = await resolveCa(o);
    } catch (err) {
      fail((err as Error).message, err instanceof UsageError ? 2 : 1);
    }
    writeFileSync(caPath(o.dir), caPem, { mode: 0o644 });
    // Made once here, so the workers only read them.
    if (o.keyPool > 0) await loadKeyPool(o.dir, o.keyPool);
  }

  const startedAt = Date.now();
  const latest: SimCounters[] = Array.from({ length: o.procs }, () => emptyCounters());
  const rss: number[] = Array(o.procs).fill(0);
  const refusals = new Set<string>();
  const workers: ChildProcess[] = [];
  let exited = 0;
  let readyPrinted = false;
  let stopping = false;
  let finished = false;

  const line = (t: string, extra: Record<string, unknown> = {}) => {
    const c = addCounters(latest);
    const rssKb = rss.reduce((a, b) => a + b, 0);
    const out = {
      t, ms: Date.now() - startedAt, hosts: o.hosts,
      ...(o.prepare ? { prepared: c.prepared } : {
        enrolled: c.enrolled, loaded: c.loaded, connected: c.connected, everConnected: c.everConnected, enrollFailed: c.enrollFailed,
        dispatches: c.dispatches, answered: c.answered, cancels: c.cancels, reconnects: c.reconnects, errors: c.errors,
        neverAnswered: c.neverAnswered, disconnectsInjected: c.disconnectsInjected, malformedSent: c.malformedSent,
        floodStreams: c.floodStreams, floodWelcomed: c.floodWelcomed, floodEnded: c.floodEnded,
        updatesCommitted: c.updatesCommitted, updatesFailed: c.updatesFailed, reverts: c.reverts, releaseBytes: c.releaseBytes,
        enrollPerSec: ratePerSecond(c.enrolled, c.firstEnrollAt, c.lastEnrollAt),
        connectPerSec: ratePerSecond(c.everConnected, c.firstConnectAt, c.lastFirstWelcomeAt),
      }),
      workersRssKb: rssKb, rssPerHostKb: o.hosts > 0 ? Math.round(rssKb / o.hosts) : 0,
      ...extra,
    };
    process.stdout.write(JSON.stringify(out) + '\n');
    return c;
  };

  const finish = () => {
    if (finished) return;
    finished = true;
    clearInterval(reportTimer);
    const c = line('final');
    if (refusals.size > 0) process.stderr.write(`opsctl-sim: ${c.enrollFailed} host(s) could not enroll: ${[...refusals].slice(0, 3).join('; ')}\n`);
    process.exit(c.enrollFailed > 0 ? 1 : 0);
  };

  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const w of workers) if (w.connected) w.send({ type: 'stop' });
    setTimeout(() => { for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL'); }, STOP_GRACE_MS).unref();
  };

  const workerPath = join(dirname(fileURLToPath(import.meta.url)), 'worker.js');
  for (let w = 0; w < o.procs; w++) {
    // Workers log to stderr; stdout stays the parent's JSON lines.
    const child = fork(workerPath, [], { stdio: ['ignore', 2, 2, 'ipc'] });
    child.on('message', (m: WorkerMessage) => {
      latest[w] = m.counters;
      rss[w] = m.rssKb;
      if (m.refusal) refusals.add(m.refusal);
      checkReady();
    });
    child.on('exit', () => { if (++exited === o.procs) finish(); });
    const init: WorkerInit = { type: 'start', worker: w, opts: o, caPem, token };
    child.send(init);
    workers.push(child);
  }

  function checkReady(): void {
    const c = addCounters(latest);
    if (!o.prepare && !readyPrinted && c.everConnected > 0 && c.everConnected + c.enrollFailed >= o.hosts) {
      readyPrinted = true;
      // From the first Connect to the last first welcome, whatever the report period; and from the
      // first Enroll to the last first welcome (the storm itself, without the simulator's start-up).
      line('ready', { connectedMs: c.lastFirstWelcomeAt - c.firstConnectAt, ...(c.firstEnrollAt ? { stormMs: c.lastFirstWelcomeAt - c.firstEnrollAt } : {}) });
      if (o.exitWhenConnected) stop();
    }
  }
  const reportTimer = setInterval(() => {
    line(o.prepare ? 'preparing' : 'progress');
    checkReady();
  }, o.reportMs);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, stop);
  if (o.durationSeconds > 0) setTimeout(stop, o.durationSeconds * 1000).unref();
}

main().catch((err: Error) => fail(err.stack ?? err.message, 1));
