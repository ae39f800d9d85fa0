import { BigIntType, EntitySchema } from '@mikro-orm/core';
import type { ActorKind } from '../../../proto/rest/audit.js';

/** One audited action. `hash` = sha256(prevHash + this row's content), see chain.ts. */
export class AuditEntry {
  /** Sequence number from audit_head: 1, 2, 3… with no gaps, so a deleted row shows. */
  id!: number;
  at!: Date;
  actorKind!: ActorKind;
  actor!: string;
  actorId!: string;
  action!: string;
  target!: string;
  /** JSON text, hashed exactly as stored. */
  params!: string;
  result!: 'ok' | 'error';
  code!: number;
  source!: string;
  prevHash!: string;
  hash!: string;
}

export const AuditEntrySchema = new EntitySchema<AuditEntry>({
  class: AuditEntry,
  tableName: 'audit_log',
  properties: {
    id: { type: new BigIntType('number'), primary: true, autoincrement: false },
    at: { type: 'datetime', length: 3, index: true },
    actorKind: { type: 'string', length: 16 },
    actor: { type: 'string', length: 300, index: true },
    actorId: { type: 'string', length: 64 },
    action: { type: 'string', length: 64, index: true },
    target: { type: 'string', length: 255, index: true },
    params: { type: 'text' },
    result: { type: 'string', length: 8 },
    code: { type: 'integer' },
    source: { type: 'string', length: 64 },
    prevHash: { type: 'string', length: 64 },
    hash: { type: 'string', length: 64 },
  },
});

/** The chain's head: one row (id 1), locked by every append so rows are chained one at a time. */
export class AuditHead {
  id!: number;
  seq!: number;
  hash!: string;
}

export const AuditHeadSchema = new EntitySchema<AuditHead>({
  class: AuditHead,
  tableName: 'audit_head',
  properties: {
    id: { type: 'integer', primary: true, autoincrement: false },
    seq: { type: new BigIntType('number') },
    hash: { type: 'string', length: 64 },
  },
});
