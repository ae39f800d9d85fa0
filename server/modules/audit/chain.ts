// The audit log's hash chain, written and checked in one place: each row stores the hash of the
// row before it and sha256(prevHash + its own content), so changing, removing or reordering a row
// breaks every link after it.
import { createHash } from 'node:crypto';
import type { AuditEntry } from './audit-entry.entity.js';

export const GENESIS_HASH = '0'.repeat(64);

export function rowHash(prevHash: string, e: Omit<AuditEntry, 'hash' | 'prevHash'>): string {
  const content = JSON.stringify([e.id, e.at.toISOString(), e.actorKind, e.actor, e.actorId, e.action, e.target, e.params, e.result, e.code, e.source]);
  return createHash('sha256').update(prevHash).update('\n').update(content).digest('hex');
}

/** Why `row` does not follow `prev` (undefined when it does). */
export function brokenLink(row: AuditEntry, prev: { id: number; hash: string }): string | undefined {
  if (row.id !== prev.id + 1) return `row ${prev.id + 1} is missing (next row is ${row.id})`;
  if (row.prevHash !== prev.hash) return 'its previous-hash does not match the row before it';
  if (rowHash(row.prevHash, row) !== row.hash) return 'its content does not match its hash (changed after it was written)';
  return undefined;
}
