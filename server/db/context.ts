import { RequestContext, type EntityManager } from '@mikro-orm/core';
import type { Orm } from './orm.js';

/**
 * The EntityManager for the work at hand: the one forked for the current HTTP request, or a fresh
 * fork for work that does not run inside a request (host link callbacks, timers). Call it once per
 * service method and pass the result along, so one operation sees one identity map.
 *
 * Inside an audited request it holds the request's transaction: a service that forked its own
 * EntityManager there would wait for the connection that transaction holds (SQLite has one), so
 * request-time work reaches the database through this (or calls commitNow() first).
 */
export function contextEm(orm: Orm): EntityManager {
  return (RequestContext.getEntityManager() as EntityManager | undefined) ?? orm.em.fork();
}

/** True when the error is a unique-constraint violation on either driver. */
export function isUniqueViolation(err: unknown): boolean {
  return (err as Error)?.name === 'UniqueConstraintViolationException';
}
