// The open Connect streams, one per node. A newer stream for a node replaces (and ends) the older
// one, so a host that reconnected before the manager noticed the old stream die is reachable at once.
import type { Dispatch, ManagerMessage } from '../../proto/hostlink.js';
import type { HostSession, HostSessions } from './contract.js';

export interface StreamWriter {
  write(message: ManagerMessage): boolean;
  /** Ends the stream from the manager's side, with a reason for the log and the host. */
  close(reason: string): void;
}

export class LinkSession implements HostSession {
  private closed = false;

  constructor(
    readonly nodeId: string,
    readonly nodeName: string,
    readonly address: string,
    private readonly writer: StreamWriter,
    readonly takesDispatchAcks = false,
  ) {}

  get isOpen(): boolean { return !this.closed; }

  send(message: ManagerMessage): boolean {
    if (this.closed) return false;
    try {
      this.writer.write(message);
      return true;
    } catch {
      return false;
    }
  }

  /** Marks the session gone; `reason` set means the manager is ending the stream itself. */
  close(reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    if (reason !== undefined) this.writer.close(reason);
  }
}

export class SessionRegistry implements HostSessions {
  private readonly byNode = new Map<string, LinkSession>();

  get size(): number { return this.byNode.size; }

  get(nodeId: string): LinkSession | undefined { return this.byNode.get(nodeId); }

  /** Registers a session; returns the one it replaced (already ended), if any. */
  add(session: LinkSession): LinkSession | undefined {
    const previous = this.byNode.get(session.nodeId);
    this.byNode.set(session.nodeId, session);
    if (previous && previous !== session) {
      previous.close('replaced by a newer stream from the same node');
      return previous;
    }
    return undefined;
  }

  /** Forgets a session, unless a newer one for the same node has taken its place. */
  remove(session: LinkSession): void {
    if (this.byNode.get(session.nodeId) === session) this.byNode.delete(session.nodeId);
  }

  dispatch(nodeId: string, dispatch: Dispatch): boolean {
    return this.byNode.get(nodeId)?.send({ dispatch }) ?? false;
  }

  cancel(nodeId: string, runId: string): boolean {
    return this.byNode.get(nodeId)?.send({ cancel: { runId } }) ?? false;
  }

  disconnect(nodeId: string, reason: string): boolean {
    const session = this.byNode.get(nodeId);
    if (!session) return false;
    // The stream's end event removes it from here and tells the backend.
    session.close(reason);
    return true;
  }

  all(): LinkSession[] { return [...this.byNode.values()]; }
}
