// Time-ordered UUIDs (RFC 9562, version 7): 48 bits of Unix milliseconds, a 12-bit counter within
// the millisecond, then 62 random bits. A table keyed by random (version 4) ids inserts each row at
// a random page of its primary-key index; once a 10,000-host manager's task_runs held 300,000
// rows, that made a fan-out's 10,000 inserts a quarter slower than appending at the index's end.
// The ids still look like any UUID to hosts and clients.
import { randomFillSync } from 'node:crypto';

const POOL_IDS = 1024;
const pool = Buffer.alloc(POOL_IDS * 10);
let used = POOL_IDS;
let lastMs = -1;
let counter = 0;

export function timeOrderedId(now = Date.now()): string {
  if (used === POOL_IDS) {
    randomFillSync(pool);
    used = 0;
  }
  const r = pool.subarray(used * 10, used * 10 + 10);
  used++;
  // Within one millisecond the counter orders the ids; a new millisecond starts it at a random
  // point in its lower half, so it rarely wraps (and a wrap only costs the order, not uniqueness).
  if (now === lastMs) counter = (counter + 1) & 0xfff;
  else {
    lastMs = now;
    counter = r.readUInt16BE(0) & 0x7ff;
  }
  const ms = now.toString(16).padStart(12, '0');
  const variant = ((r[2] & 0x3f) | 0x80).toString(16);
  const rest = r.toString('hex', 3, 10);
  return `${ms.slice(0, 8)}-${ms.slice(8)}-7${counter.toString(16).padStart(3, '0')}-${variant}${rest.slice(0, 2)}-${rest.slice(2)}`;
}
