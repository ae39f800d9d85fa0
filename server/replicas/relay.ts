// What a replica does with its inbox: messages for hosts it holds go down their streams (and the
// run is remembered as the sender's, so the host's events go back there); host events and file
// acks for runs it owns go to its own task engine, as if its own host had sent them.
import type { Logger } from '../../lib/log.js';
import type { HostSessions } from '../hostlink/contract.js';
import type { ManagerServices } from '../module.js';
import type { InboxMessage, ReplicaBus } from './bus.js';

export function relayFromReplicas(local: HostSessions, services: ManagerServices, bus: ReplicaBus, log: Logger): (m: InboxMessage) => void {
  return (m) => {
    switch (m.kind) {
      case 'send': {
        const session = local.get(m.nodeId);
        const runId = m.message.dispatch?.runId;
        if (session) {
          if (runId) bus.noteRunOwner(runId, m.from);
          session.send(m.message);
          return;
        }
        // The host moved (or this is a dead replica's inbox being drained): on to its holder now, still from the sender.
        // Once only: two replicas with stale presence must not pass it back and forth.
        const holder = m.relayed ? undefined : bus.remoteHolder(m.nodeId);
        if (holder) bus.send(holder, { ...m, relayed: true });
        else log.warn({ nodeId: m.nodeId, from: m.from, runId }, 'a replica sent a message for a host no replica holds now');
        return;
      }
      case 'event':
        void Promise.resolve().then(() => services.hostLink.onTaskEvent(m.nodeId, m.event))
          .catch((err: unknown) => log.warn({ err, nodeId: m.nodeId }, 'a forwarded task event failed'));
        return;
      case 'file-ack':
        void services.hostLink.onFileAck(m.nodeId, m.ack).catch((err: unknown) => log.warn({ err, nodeId: m.nodeId }, 'a forwarded file ack failed'));
        return;
    }
  };
}
