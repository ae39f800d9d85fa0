import type { DatabaseKind } from './migrations-list.js';

/** Which SQL dialect `em` speaks, for the few statements written by hand (upserts, joined updates). */
export function dialectOf(em: { getPlatform(): object }): DatabaseKind {
  return /mysql|maria/i.test(em.getPlatform().constructor.name) ? 'mysql' : 'sqlite';
}
