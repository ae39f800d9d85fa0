// MySQL and MariaDB end one of two transactions that wait for each other's row locks (a deadlock)
// and ask for it to be run again. Batched writes to one table meet that way: a batch of hosts
// arriving and the heartbeat writer both UPDATE `nodes` rows through a join, and InnoDB locks the
// rows in the order the join reads them. Seen in a 10,000-host enrollment storm on MariaDB: a
// batch of hosts was not recorded as connected, and a second of heartbeats was dropped. SQLite has
// one writer and never reports a deadlock.
import { DeadlockException } from '@mikro-orm/core';

/** Runs of `work` in all, the first included (an enrollment storm on MariaDB lost one batch four times running). */
const ATTEMPTS = 8;

/** Whether the database ended the transaction as a deadlock's victim (InnoDB error 1213). */
export function isDeadlock(err: unknown): boolean {
  if (err instanceof DeadlockException) return true;
  const e = err as { code?: unknown; errno?: unknown } | null;
  return e?.code === 'ER_LOCK_DEADLOCK' || e?.errno === 1213;
}

/**
 * Runs `work` (a whole transaction: it is run again from the start) and runs it again when it
 * lost a deadlock, after a short random pause so the two do not meet again in step.
 */
export async function retryDeadlocks<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= ATTEMPTS || !isDeadlock(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 25 * attempt));
    }
  }
}
