// The one place events are raised and cleared. At most one active event per (kind, subject): raises
// and clears go through one queue in this process, so a raise of an already-active event is a no-op
// however calls interleave. Each real change is handed to the webhooks after it is committed.
import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/core';
import type { Logger } from '../../../lib/log.js';
import type { EventSeverity, EventView, ListEventsQuery } from '../../../proto/rest/events.js';
import { DEFAULT_PAGE_LIMIT, type Page } from '../../../proto/rest/common.js';
import { deleteBatched } from '../../db/delete-batched.js';
import { cursorDate, decodeCursor, pageOf } from '../../http/page.js';
import { OpsEvent } from './event.entity.js';
import type { WebhookSender } from './webhooks.js';

export interface RaiseOptions {
  severity: EventSeverity;
  message: string;
  details?: Record<string, unknown>;
}

export class EventsService {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly orm: MikroORM, private readonly log: Logger, private readonly webhooks: WebhookSender) {}

  /** Raises (kind, subject) unless it is active already; returns the new event, or null. */
  raise(kind: string, subject: string, opts: RaiseOptions): Promise<EventView | null> {
    return this.serially(async () => {
      const em = this.orm.em.fork();
      if (await em.findOne(OpsEvent, { kind, subject, clearedAt: null })) return null;
      const event = em.create(OpsEvent, {
        id: randomUUID(), kind, subject, severity: opts.severity, message: opts.message, details: opts.details ?? {}, raisedAt: new Date(), clearedAt: null,
      });
      await em.flush();
      this.log.warn({ kind, subject, severity: opts.severity }, `event raised: ${opts.message}`);
      return this.announce(event, 'raised');
    });
  }

  /** Clears the active (kind, subject) event; returns it, or null when none was active. */
  clear(kind: string, subject: string): Promise<EventView | null> {
    return this.serially(async () => {
      const em = this.orm.em.fork();
      const event = await em.findOne(OpsEvent, { kind, subject, clearedAt: null });
      if (!event) return null;
      event.clearedAt = new Date();
      await em.flush();
      this.log.info({ kind, subject }, 'event cleared');
      return this.announce(event, 'cleared');
    });
  }

  /** A page of events, newest first (keyset on raisedAt, id). */
  async list(query: ListEventsQuery = {}): Promise<Page<EventView>> {
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    const after = decodeCursor<[string, string]>(query.cursor, ['string', 'string']);
    const where: Record<string, unknown> = query.active === undefined ? {} : { clearedAt: query.active ? null : { $ne: null } };
    if (after) where.$or = [{ raisedAt: { $lt: cursorDate(after[0]) } }, { raisedAt: cursorDate(after[0]), id: { $lt: after[1] } }];
    const events = await this.orm.em.fork().find(OpsEvent, where, { orderBy: { raisedAt: 'desc', id: 'desc' }, limit: limit + 1, disableIdentityMap: true });
    return pageOf(events.map(toView), limit, (e) => [e.raisedAt, e.id]);
  }

  /** Active events of the given kinds (what the rules compare their findings with). */
  async active(kinds: readonly string[]): Promise<OpsEvent[]> {
    return this.orm.em.fork().find(OpsEvent, { kind: { $in: [...kinds] }, clearedAt: null });
  }

  /** Deletes events cleared before `before`, a bounded batch per statement; active events stay whatever their age. */
  async pruneCleared(before: Date, batch = 5000): Promise<number> {
    const { deleted } = await deleteBatched(this.orm, OpsEvent, { clearedAt: { $ne: null, $lt: before } }, batch);
    if (deleted > 0) this.log.info({ deleted, before }, 'old cleared events deleted');
    return deleted;
  }

  stop(): void {
    this.webhooks.stop();
  }

  private announce(event: OpsEvent, action: 'raised' | 'cleared'): EventView {
    const view = toView(event);
    this.webhooks.send({ event: view, action });
    return view;
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function toView(e: OpsEvent): EventView {
  return {
    id: e.id, kind: e.kind, subject: e.subject, severity: e.severity, message: e.message,
    raisedAt: e.raisedAt.toISOString(), clearedAt: e.clearedAt?.toISOString() ?? null, details: e.details,
  };
}
