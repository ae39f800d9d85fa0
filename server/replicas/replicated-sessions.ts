// The host streams as a replica's services see them: its own, and — through the bus — those other
// replicas hold. A message for a host held elsewhere goes to that replica's inbox, which sends it
// down the stream; the task engine cannot tell the difference.
import type { Dispatch, ManagerMessage } from '../../proto/hostlink.js';
import type { HostSession, HostSessions } from '../hostlink/contract.js';
import type { ReplicaBus } from './bus.js';

class RemoteSession implements HostSession {
  readonly address = '';
  constructor(readonly nodeId: string, readonly nodeName: string, private readonly holder: string, private readonly bus: ReplicaBus) {}

  send(message: ManagerMessage): boolean {
    this.bus.send(this.holder, { kind: 'send', from: this.bus.replicaId, nodeId: this.nodeId, message });
    return true;
  }
}

export class ReplicatedSessions implements HostSessions {
  constructor(private readonly local: HostSessions, private readonly bus: ReplicaBus) {}

  get(nodeId: string): HostSession | undefined {
    const own = this.local.get(nodeId);
    if (own) return own;
    const holder = this.bus.remoteHolder(nodeId);
    return holder ? new RemoteSession(nodeId, nodeId, holder, this.bus) : undefined;
  }

  dispatch(nodeId: string, dispatch: Dispatch): boolean { return this.get(nodeId)?.send({ dispatch }) ?? false; }
  cancel(nodeId: string, runId: string): boolean { return this.get(nodeId)?.send({ cancel: { runId } }) ?? false; }
  /** Only this replica's own streams: revocation ends a stream where it is (every replica checks certificates itself). */
  disconnect(nodeId: string, reason: string): boolean { return this.local.disconnect(nodeId, reason); }
  get size(): number { return this.local.size; }
}
