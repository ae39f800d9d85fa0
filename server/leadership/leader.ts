// Who does the manager's once-per-cluster work (firing schedules): the leader. A single manager is
// always its own leader; replicas sharing a database will elect one through another Leader
// (e.g. a lease in Redis) without the work that asks "am I leader?" changing.
import { EventEmitter } from 'node:events';

export interface Leader {
  isLeader(): boolean;
  /** Called with the new state whenever this process gains or loses leadership. */
  on(event: 'change', listener: (leader: boolean) => void): this;
  off(event: 'change', listener: (leader: boolean) => void): this;
}

/** One manager, no election: always the leader. */
export class InProcessLeader extends EventEmitter implements Leader {
  isLeader(): boolean {
    return true;
  }
}
