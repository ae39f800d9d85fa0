// SQLite copies its write-ahead log back into the database file (a checkpoint) in whichever commit
// finds the log past 1,000 pages: that commit, on the manager's one thread, paid for copying every
// page written since the last checkpoint and for its two fsyncs. In a 10,000-host fan-out that was
// a third of the time spent in COMMIT. Here a worker thread with its own connection checkpoints
// every second instead, and the manager's connection never does; if the worker fails, the
// connection goes back to checkpointing itself.
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../lib/log.js';
import type { Orm } from './orm.js';

const INTERVAL_MS = 1000;

/**
 * The worker: its own connection to the file, copying the WAL back into the database every
 * interval. PASSIVE never waits for a reader or the writer; the manager's writes go on meanwhile.
 * Source text rather than a file of its own: the same code then runs from dist/ and from the
 * TypeScript sources under tsx (which cannot load a worker's .ts file).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.libsql);
const db = new Database(workerData.path);
// NORMAL, as the manager's connection: a checkpoint syncs the WAL before it and the file after it.
db.exec('pragma synchronous = normal');
db.exec('pragma busy_timeout = 1000');
let failures = 0;
function checkpoint() {
  try {
    db.exec('pragma wal_checkpoint(PASSIVE)');
    failures = 0;
  } catch (err) {
    // A passing fault is retried at the next interval; three in a row are reported.
    if (++failures === 3) parentPort.postMessage({ failed: err.message });
  }
}
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
parentPort.postMessage({ ready: true });
`;
/** SQLite's own default, restored when the worker is gone. */
const AUTOCHECKPOINT_PAGES = 1000;
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5000;

export class SqliteCheckpoints {
  private stopping = false;
  private exited = false;

  private constructor(private readonly worker: Worker, private readonly orm: Orm, private readonly log: Logger) {}

  /**
   * Starts the worker on the database file `path`; the manager's connection stops checkpointing once
   * it runs. A worker that cannot start is logged, and the connection goes on checkpointing (undefined).
   */
  static async start(orm: Orm, path: string, log: Logger, intervalMs = INTERVAL_MS): Promise<SqliteCheckpoints | undefined> {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, intervalMs, libsql: createRequire(import.meta.url).resolve('libsql') } });
    const ready = once(worker, 'message');
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the SQLite checkpoint worker did not start')), START_TIMEOUT_MS).unref());
    try {
      await Promise.race([ready, timeout]);
    } catch (err) {
      log.warn({ err }, 'the SQLite checkpoint worker did not start; the database connection checkpoints itself');
      await worker.terminate();
      return undefined;
    }
    const checkpoints = new SqliteCheckpoints(worker, orm, log);
    worker.on('message', (m: { failed?: string }) => { if (m.failed) log.warn({ error: m.failed }, 'SQLite checkpoints in the worker keep failing'); });
    worker.on('error', (err) => log.error({ err }, 'the SQLite checkpoint worker failed'));
    worker.on('exit', () => {
      checkpoints.exited = true;
      if (!checkpoints.stopping) void checkpoints.checkpointHere();
    });
    worker.unref();
    await orm.em.getConnection().execute('pragma wal_autocheckpoint = 0');
    return checkpoints;
  }

  /** The worker is gone: the manager's connection checkpoints again. */
  private async checkpointHere(): Promise<void> {
    try {
      await this.orm.em.getConnection().execute(`pragma wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
      this.log.warn('the SQLite checkpoint worker stopped; the database connection checkpoints itself again');
    } catch (err) {
      this.log.error({ err }, 'restoring SQLite checkpoints failed');
    }
  }

  /** A last checkpoint, then the worker ends (before the database is closed). */
  async stop(): Promise<void> {
    if (this.stopping || this.exited) return;
    this.stopping = true;
    const exited = once(this.worker, 'exit');
    this.worker.postMessage('stop');
    const timer = setTimeout(() => void this.worker.terminate(), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}
