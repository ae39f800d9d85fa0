// What the workers count and the parent adds up into its progress lines (one JSON object a line).

export interface SimCounters {
  /** Hosts this worker simulates. */
  hosts: number;
  /** Enrolled by this start (Enroll RPC answered with a certificate). */
  enrolled: number;
  /** Identities found on disk. */
  loaded: number;
  /** Keys made by --prepare. */
  prepared: number;
  /** Welcomed at least once. */
  everConnected: number;
  /** Welcomed now (a gauge). */
  connected: number;
  /** Hosts whose enrollment was refused for good (wrong or used-up token, held name). */
  enrollFailed: number;
  dispatches: number;
  /** Runs answered with an exit. */
  answered: number;
  cancels: number;
  /** Streams that ended and were opened again. */
  reconnects: number;
  /** Failed calls that are retried (enrollment unavailable, a stream refused). */
  errors: number;
  neverAnswered: number;
  disconnectsInjected: number;
  malformedSent: number;
  floodStreams: number;
  floodWelcomed: number;
  /** Flood streams over (ended by the manager, or cancelled). */
  floodEnded: number;
  /** Updates (UpdateHost) that ended committed, or otherwise; RevertHosts done; bundle bytes fetched. */
  updatesCommitted: number;
  updatesFailed: number;
  reverts: number;
  releaseBytes: number;
  /** Timestamps (ms since the epoch, 0 = not yet) for the rates. */
  firstEnrollAt: number;
  lastEnrollAt: number;
  firstConnectAt: number;
  lastFirstWelcomeAt: number;
}

export function emptyCounters(hosts = 0): SimCounters {
  return {
    hosts, enrolled: 0, loaded: 0, prepared: 0, everConnected: 0, connected: 0, enrollFailed: 0, dispatches: 0, answered: 0,
    cancels: 0, reconnects: 0, errors: 0, neverAnswered: 0, disconnectsInjected: 0, malformedSent: 0, floodStreams: 0,
    floodWelcomed: 0, floodEnded: 0, updatesCommitted: 0, updatesFailed: 0, reverts: 0, releaseBytes: 0, firstEnrollAt: 0, lastEnrollAt: 0, firstConnectAt: 0, lastFirstWelcomeAt: 0,
  };
}

const EARLIEST = new Set<keyof SimCounters>(['firstEnrollAt', 'firstConnectAt']);
const LATEST = new Set<keyof SimCounters>(['lastEnrollAt', 'lastFirstWelcomeAt']);

/** Sums counters; timestamps take the earliest start and the latest end. */
export function addCounters(all: SimCounters[]): SimCounters {
  const total = emptyCounters();
  for (const c of all) {
    for (const key of Object.keys(total) as (keyof SimCounters)[]) {
      if (EARLIEST.has(key)) total[key] = total[key] === 0 ? c[key] : c[key] === 0 ? total[key] : Math.min(total[key], c[key]);
      else if (LATEST.has(key)) total[key] = Math.max(total[key], c[key]);
      else total[key] += c[key];
    }
  }
  return total;
}

/** Per second, over the span between two timestamps (undefined before there is one). */
export function ratePerSecond(count: number, from: number, to: number): number | undefined {
  if (count === 0 || from === 0 || to <= from) return undefined;
  return Math.round((count * 1000) / (to - from));
}

/** Worker → parent messages (IPC). */
export type WorkerMessage =
  | { type: 'stats'; counters: SimCounters; rssKb: number; refusal?: string }
  | { type: 'done'; counters: SimCounters; rssKb: number; refusal?: string };
