// A simulator worker process (forked by main.ts): runs hosts i with i % procs == its index, and
// reports its counters to the parent over IPC every --report-ms. Exits after 'stop' (every stream
// closed), when the parent goes away, or by itself when none of its hosts could enroll.
import { createLogger, type Logger } from '../../lib/log.js';
import { createHostLinkClient, type HostLinkClient } from '../../hostd/grpc-client.js';
import { createKeyAsync } from './csr.js';
import { loadKeyPool, readHostFile, writeHostFile } from './identities.js';
import { hostName, type SimOptions } from './options.js';
import { SimHost, type WorkerContext } from './sim-host.js';
import { StartGate } from './start-gate.js';
import { emptyCounters, type SimCounters, type WorkerMessage } from './stats.js';

export interface WorkerInit {
  type: 'start';
  worker: number;
  opts: SimOptions;
  caPem: string;
  token?: string;
}

function myIndices(opts: SimOptions, worker: number): number[] {
  const out: number[] = [];
  for (let i = opts.start; i < opts.start + opts.hosts; i++) if (i % opts.procs === worker) out.push(i);
  return out;
}

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

const rssKb = () => Math.round(process.memoryUsage().rss / 1024);

/** --prepare: a key for each host that has none, a few at a time (the thread pool makes them in parallel). */
async function prepare(opts: SimOptions, indices: number[], counters: SimCounters, report: () => void): Promise<void> {
  let next = 0;
  const one = async (): Promise<void> => {
    while (next < indices.length) {
      const name = hostName(opts.prefix, indices[next++]);
      if (readHostFile(opts.dir, name)) continue;
      await writeHostFile(opts.dir, { name, keyPem: await createKeyAsync() });
      counters.prepared++;
    }
  };
  const timer = setInterval(report, opts.reportMs);
  await Promise.all(Array.from({ length: 8 }, one));
  clearInterval(timer);
}

async function run(init: WorkerInit): Promise<void> {
  const { opts, worker } = init;
  const log: Logger = createLogger({ component: `sim-worker-${worker}`, level: opts.logLevel, destination: process.stderr });
  const indices = myIndices(opts, worker);
  const counters = emptyCounters(indices.length);
  let refusal: string | undefined;
  const report = () => void send({ type: 'stats', counters, rssKb: rssKb(), refusal });

  if (opts.prepare) {
    await prepare(opts, indices, counters, report);
    await send({ type: 'done', counters, rssKb: rssKb() });
    process.exit(0);
  }

  let enrollClient: HostLinkClient | undefined;
  const hosts: SimHost[] = [];
  let flooded = false;
  const ctx: WorkerContext = {
    opts, caPem: init.caPem, token: init.token, counters, log,
    keyPool: opts.keyPool > 0 ? await loadKeyPool(opts.dir, opts.keyPool) : [],
    gate: new StartGate(opts.concurrency, opts.rate / opts.procs),
    enrollGate: new StartGate(opts.enrollConcurrency, opts.rate / opts.procs),
    enrollClient: () => (enrollClient ??= createHostLinkClient(opts.manager, { caPem: init.caPem })),
    refused: (message) => {
      if (!refusal) log.error({ message }, 'enrollment refused');
      refusal ??= message;
    },
    runOfAnotherHost: (self) => {
      for (let tries = 0; tries < 20; tries++) {
        const other = hosts[Math.floor(Math.random() * hosts.length)];
        const runId = other !== self ? other.runs.anyRunId() : undefined;
        if (runId) return runId;
      }
      return undefined;
    },
    welcomed: (host) => {
      // All of this worker's hosts are in: tell the parent now, for a precise ready line.
      if (counters.everConnected === hosts.length) report();
      if (opts.helloFlood > 0 && !flooded && host === hosts[0] && worker === opts.start % opts.procs) {
        flooded = true;
        host.flood(opts.helloFlood);
      }
    },
  };
  for (const i of indices) hosts.push(new SimHost(ctx, i, hostName(opts.prefix, i)));

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    ctx.gate.close();
    ctx.enrollGate.close();
    await Promise.all(hosts.map((h) => h.stop()));
    enrollClient?.close();
    await send({ type: 'done', counters, rssKb: rssKb(), refusal });
    process.exit(0);
  };
  process.on('message', (m: { type?: string }) => { if (m?.type === 'stop') void stop(); });
  process.on('disconnect', () => void stop());
  const timer = setInterval(() => {
    report();
    // Nothing left to simulate: every host was refused.
    if (counters.enrollFailed === hosts.length) void stop();
  }, opts.reportMs);

  for (const h of hosts) {
    h.start().catch((err: Error) => {
      counters.errors++;
      log.error({ host: h.name, err: err.message }, 'simulated host failed');
    });
  }
}

process.once('message', (m: WorkerInit) => {
  if (m?.type !== 'start') return;
  run(m).catch((err: Error) => {
    process.stderr.write(`opsctl-sim worker: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
});
// SIGINT reaches the whole process group from a terminal: the parent decides when workers stop.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
