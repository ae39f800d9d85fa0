// Fencing in the database. The Redis lease says who should lead; the epoch row says whose writes
// still count. A replica that wins the lease raises the epoch before it acts (its fencing token),
// and each write only the leader may make commits in a transaction that reads the row locked and
// finds its own epoch there. A leader that paused past its lease (GC, SIGSTOP, a slow disk) wakes
// up with an outgrown epoch: its write is rolled back instead of overwriting what the new leader
// decided. The lock is held until commit, so a new leader's raise waits for a write already
// checked, and every later write of the old one fails. The row lives in the database, not Redis,
// so epochs keep growing when Redis restarts empty.
import { LockMode, type EntityManager } from '@mikro-orm/core';
import type { Orm } from '../db/orm.js';
import { NotLeaderError } from '../leadership/leader.js';
import { LeaderEpoch } from '../modules/cluster/leader-epoch.entity.js';

const ROW = 'leader';

export class LeaderEpochs {
  constructor(private readonly orm: Orm) {}

  /** Raises the epoch for a new leader and returns it (its fencing token). */
  async take(holder: string): Promise<number> {
    const em = this.orm.em.fork();
    await em.begin();
    try {
      const row = await em.findOne(LeaderEpoch, { name: ROW }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      const epoch = (row?.epoch ?? 0) + 1;
      if (row) Object.assign(row, { epoch, holder, takenAt: new Date() });
      else em.create(LeaderEpoch, { name: ROW, epoch, holder, takenAt: new Date() });
      await em.commit();
      return epoch;
    } catch (err) {
      await em.rollback().catch(() => undefined);
      throw err;
    }
  }

  /** Flushes em's changes in one transaction that commits only if `epoch` is still the newest; NotLeaderError (nothing written) otherwise. */
  async flushFenced(em: EntityManager, epoch: number): Promise<void> {
    await em.begin();
    try {
      await em.flush();
      // Last, so the row stays locked only for the commit.
      const row = await em.findOne(LeaderEpoch, { name: ROW }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
      if (row?.epoch !== epoch) throw new NotLeaderError(`leadership epoch ${epoch} was outgrown (now ${row?.epoch ?? 'none'}): nothing written`);
      await em.commit();
    } catch (err) {
      await em.rollback().catch(() => undefined);
      throw err;
    }
  }
}
