// Who does the manager's once-per-cluster work (schedules, rollouts, alert rules, retention): the
// leader. A single manager is always its own leader; replicas sharing a database elect one through
// a Redis lease (redis-leader.ts) without the work that asks "am I leader?" changing.
import { EventEmitter } from 'node:events';
import type { EntityManager } from '@mikro-orm/core';

export interface Leader {
  isLeader(): boolean;
  /**
   * Writes em's changes as the leader: in one transaction that commits only while this process's
   * leadership is still the newest (its fencing token). Throws NotLeaderError, with nothing
   * written, when a newer leader took over — also after a pause this process did not notice.
   */
  flushAsLeader(em: EntityManager): Promise<void>;
  /** Called with the new state whenever this process gains or loses leadership. */
  on(event: 'change', listener: (leader: boolean) => void): this;
  off(event: 'change', listener: (leader: boolean) => void): this;
}

/** A leader's write refused because a newer leader exists. */
export class NotLeaderError extends Error {
  override readonly name = 'NotLeaderError';
}

/** One manager, no election: always the leader, and nothing to fence. */
export class InProcessLeader extends EventEmitter implements Leader {
  isLeader(): boolean {
    return true;
  }

  async flushAsLeader(em: EntityManager): Promise<void> {
    await em.flush();
  }
}
