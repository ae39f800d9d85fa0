// The transaction an audited request runs in (server/http/request-audit.ts opens it): every write
// of the request's EntityManager goes into it, and the audit row is written just before it
// commits, so a change and its record land together or not at all.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { EntityManager } from '@mikro-orm/core';

const current = new AsyncLocalStorage<RequestTransaction>();

export class RequestTransaction {
  /** What the audit row names as the target when the route's parameters do not say. */
  target?: string;
  private state: 'open' | 'committed' | 'rolled back' = 'open';

  private constructor(private readonly em: EntityManager, private readonly beforeCommit: (em: EntityManager) => Promise<void>) {}

  static async begin(em: EntityManager, beforeCommit: (em: EntityManager) => Promise<void>): Promise<RequestTransaction> {
    await em.begin();
    return new RequestTransaction(em, beforeCommit);
  }

  get open(): boolean { return this.state === 'open'; }

  run<T>(fn: () => T): T { return current.run(this, fn); }

  async commit(): Promise<void> {
    if (this.state !== 'open') return;
    await this.em.flush();
    await this.beforeCommit(this.em);
    await this.em.commit();
    this.state = 'committed';
  }

  async rollback(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'rolled back';
    await this.em.rollback();
  }
}

/**
 * Commits the current request's transaction (with its audit row) now. Call it before handing
 * stored work to something that uses another connection — dispatching a task to hosts, a
 * background queue — which would otherwise wait for a commit that waits for it. Outside an
 * audited request it does nothing.
 */
export async function commitNow(): Promise<void> {
  await current.getStore()?.commit();
}

/** Names the audit row's target (e.g. a new task's id) when the route's parameters cannot. */
export function setAuditTarget(target: string): void {
  const tx = current.getStore();
  if (tx) tx.target = target;
}
