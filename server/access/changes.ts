// Tells the authenticator's cache that accounts changed (a user deleted, a role changed, a token
// revoked) so this process applies the change at once; other replicas see it when their cache
// entry expires (at most auth.cacheSeconds).
import { EventEmitter } from 'node:events';

export class AccessChanges {
  private readonly events = new EventEmitter();

  changed(): void { this.events.emit('changed'); }
  onChange(listener: () => void): void { this.events.on('changed', listener); }
}
