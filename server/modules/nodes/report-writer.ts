// Write-behind for what every host reports all day: heartbeats and metrics samples. At 20,000
// hosts that is ~670 heartbeats and ~330 samples a second; one transaction each cost more CPU than
// the manager has. They are gathered for up to `flushMs` and written together: the node rows in one
// UPDATE per 500 nodes, the samples in multi-row INSERTs, and the rollups by the recorders
// (the metrics module) in the same transaction. A heartbeat coalesces with the node's earlier one.
//
// What this costs: a report is in the database up to flushMs later (live watchers are told at
// once, from memory), and a manager crash loses at most that much of it. Writes that decide
// something (connect, disconnect, enrollment) do not come through here; they first `forget` the
// node's pending reports so an older heartbeat cannot land after them.
import type { EntityManager } from '@mikro-orm/core';
import type { Logger } from '../../../lib/log.js';
import type { Metrics } from '../../../proto/rest/nodes.js';
import { batchUpdate, executeAll, multiInsert, ROWS_PER_UPDATE, toDatabase } from '../../db/batch-sql.js';
import type { Orm } from '../../db/orm.js';
import { retryDeadlocks } from '../../db/retry-deadlock.js';
import { MetricSample } from './metric-sample.entity.js';
import { Node } from './node.entity.js';

/** Node columns a heartbeat or sample sets. */
export type ReportedColumns = Partial<Pick<Node, 'status' | 'agentStatus' | 'agentVersion' | 'lastSeenAt' | 'metrics'>>;

export interface StoredSample { nodeId: string; metrics: Metrics; at: Date }

/** Called inside each flush's transaction with its samples, in arrival order (rollups). */
export type SampleBatchRecorder = (tx: EntityManager, samples: readonly StoredSample[]) => Promise<void>;

export interface ReportWriterOptions {
  /** How long reports are gathered before they are written (ms). */
  flushMs: number;
  /** Write at once when this many samples are waiting. */
  maxSamples: number;
}

export const REPORT_WRITER_DEFAULTS: ReportWriterOptions = { flushMs: 1000, maxSamples: 2000 };

const SAMPLE_PROPS = ['node', 'at', 'cpuPercent', 'memUsedBytes', 'memTotalBytes', 'load1', 'load5', 'load15', 'netRxBytes', 'netTxBytes', 'disks'] as const;

export class HostReportWriter {
  readonly recorders: SampleBatchRecorder[] = [];
  private nodes = new Map<string, ReportedColumns>();
  private samples: StoredSample[] = [];
  private timer?: NodeJS.Timeout;
  /** Settles when the gathered reports are written (the next flush). */
  private next?: { promise: Promise<void>; resolve: () => void; reject: (err: unknown) => void };
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly orm: Orm,
    private readonly log: Logger,
    private readonly opts: ReportWriterOptions = REPORT_WRITER_DEFAULTS,
  ) {}

  /** Node columns to set; merged with the node's columns still waiting. Resolves once written. */
  update(nodeId: string, columns: ReportedColumns): Promise<void> {
    this.nodes.set(nodeId, { ...this.nodes.get(nodeId), ...columns });
    return this.schedule();
  }

  /** A sample to store, and the node's latest metrics. Resolves once written. */
  sample(nodeId: string, metrics: Metrics, at: Date): Promise<void> {
    this.samples.push({ nodeId, metrics, at });
    this.nodes.set(nodeId, { ...this.nodes.get(nodeId), metrics, lastSeenAt: new Date() });
    const written = this.schedule();
    if (this.samples.length >= this.opts.maxSamples) void this.flush();
    return written;
  }

  /** Drops the node's waiting reports and waits for a write in progress (before a write that decides its state). */
  async forget(nodeId: string): Promise<void> {
    this.nodes.delete(nodeId);
    if (this.samples.some((s) => s.nodeId === nodeId)) this.samples = this.samples.filter((s) => s.nodeId !== nodeId);
    await this.writing.catch(() => undefined);
  }

  /** Writes what is waiting now; resolves when it (and any write before it) is done. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.next;
    if (!next) return this.writing.catch(() => undefined);
    this.next = undefined;
    const nodes = this.nodes;
    const samples = this.samples;
    this.nodes = new Map();
    this.samples = [];
    // One write at a time, in order: a later heartbeat never lands before an earlier one.
    this.writing = this.writing.catch(() => undefined).then(() => this.write(nodes, samples));
    this.writing.then(next.resolve, next.reject);
    return this.writing.catch(() => undefined);
  }

  /** Writes what is waiting and stops the timer (manager shutdown). */
  async close(): Promise<void> {
    await this.flush();
  }

  private schedule(): Promise<void> {
    if (!this.next) {
      let resolve!: () => void;
      let reject!: (err: unknown) => void;
      const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
      // Callers that do not wait (the host link) must not crash the process with an unhandled rejection.
      promise.catch(() => undefined);
      this.next = { promise, resolve, reject };
    }
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.opts.flushMs);
      this.timer.unref();
    }
    return this.next.promise;
  }

  private async write(nodes: Map<string, ReportedColumns>, samples: StoredSample[]): Promise<void> {
    const started = performance.now();
    try {
      await this.writeOnce(nodes, samples).catch(async (err) => {
        // A node deleted while its reports waited makes the sample INSERT fail its foreign key:
        // write the others again rather than dropping every host's second.
        const alive = await this.existing([...nodes.keys(), ...samples.map((s) => s.nodeId)]);
        if (alive.size === new Set([...nodes.keys(), ...samples.map((s) => s.nodeId)]).size) throw err;
        await this.writeOnce(new Map([...nodes].filter(([id]) => alive.has(id))), samples.filter((s) => alive.has(s.nodeId)));
      });
    } catch (err) {
      this.log.error({ err, nodes: nodes.size, samples: samples.length }, 'writing host heartbeats and metrics failed; they are dropped');
      throw err;
    }
    const ms = performance.now() - started;
    if (ms > 1000) this.log.warn({ nodes: nodes.size, samples: samples.length, ms: Math.round(ms) }, 'writing host reports was slow');
  }

  /** Which of these node ids still exist. */
  private async existing(ids: string[]): Promise<Set<string>> {
    const unique = [...new Set(ids)];
    const found = new Set<string>();
    const em = this.orm.em.fork();
    for (let i = 0; i < unique.length; i += ROWS_PER_UPDATE) {
      for (const n of await em.find(Node, { id: { $in: unique.slice(i, i + ROWS_PER_UPDATE) } }, { fields: ['id'], disableIdentityMap: true })) found.add(n.id);
    }
    return found;
  }

  private async writeOnce(nodes: Map<string, ReportedColumns>, samples: StoredSample[]): Promise<void> {
    await retryDeadlocks(() => this.orm.em.fork().transactional(async (tx) => {
      const rows = [...nodes].map(([id, columns]) => [id, Object.fromEntries(
        Object.entries(columns).map(([prop, value]) => [prop, toDatabase(tx, Node.name, prop, value)]),
      )] as const);
      await executeAll(tx, batchUpdate(tx, Node.name, new Map(rows)));
      // Rollups before the samples: a recorder looking up a node's previous sample must not find this batch's.
      for (const record of this.recorders) await record(tx, samples);
      await executeAll(tx, multiInsert(tx, MetricSample.name, SAMPLE_PROPS, samples.map(({ nodeId, metrics: m, at }) => [
        nodeId, toDatabase(tx, MetricSample.name, 'at', at), m.cpuPercent, m.memUsedBytes, m.memTotalBytes,
        m.load1, m.load5, m.load15, m.netRxBytes, m.netTxBytes, JSON.stringify(m.disks),
      ])));
    }));
  }
}
