// The audit log: one hash-chained row per mutation, appended inside the transaction of the change
// it records (server/http/request-audit.ts for REST; the host link for enrollment), listed with
// filters, and verified link by link.
import type { EntityManager } from '@mikro-orm/core';
import { parseDuration } from '../../../lib/config.js';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import type { AuditEntryView, AuditListQuery, AuditVerifyResult } from '../../../proto/rest/audit.js';
import { DEFAULT_PAGE_LIMIT, type Page } from '../../../proto/rest/common.js';
import { isScoped, type Principal } from '../../access/principal.js';
import { contextEm } from '../../db/context.js';
import type { Orm } from '../../db/orm.js';
import { decodeCursor, pageOf } from '../../http/page.js';
import type { AuditRecord, AuditSink } from '../../http/request-audit.js';
import { AuditEntry, AuditHead } from './audit-entry.entity.js';
import { brokenLink, GENESIS_HASH, rowHash } from './chain.js';

const MAX_PARAMS_CHARS = 16_384;
const VERIFY_PAGE = 1000;

export class AuditService implements AuditSink {
  constructor(private readonly orm: Orm) {}

  /**
   * Appends a row in the caller's transaction. Bumping the head first takes its row lock (MySQL)
   * or the write lock (SQLite), so concurrent appends chain one after another, in any replica.
   */
  async append(em: EntityManager, record: AuditRecord): Promise<void> {
    await this.appendMany(em, [record]);
  }

  /** Appends rows in order, chained, with one bump of the head (a batch of enrollments). */
  async appendMany(em: EntityManager, records: readonly AuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    const conn = em.getConnection();
    const ctx = em.getTransactionContext();
    if (!ctx) throw new Error('audit rows are written inside the transaction of the change they record');
    await conn.execute('update audit_head set seq = seq + ? where id = 1', [records.length], 'run', ctx);
    const head = await conn.execute<{ seq: number | string; hash: string }>('select seq, hash from audit_head where id = 1', [], 'get', ctx);
    if (!head) throw new Error('audit_head is missing its row (migrations not applied?)');
    const at = new Date();
    let prevHash = head.hash;
    const rows = records.map((record, i) => {
      let params = JSON.stringify(record.params ?? {});
      if (params.length > MAX_PARAMS_CHARS) params = JSON.stringify({ truncated: `${params.length} characters` });
      const entry = {
        id: Number(head.seq) - records.length + 1 + i, at, actorKind: record.actorKind, actor: record.actor.slice(0, 300), actorId: record.actorId.slice(0, 64),
        action: record.action, target: record.target.slice(0, 255), params, result: record.result, code: record.code, source: record.source.slice(0, 64),
      };
      const hash = rowHash(prevHash, entry);
      const row = { ...entry, prevHash, hash };
      prevHash = hash;
      return row;
    });
    await em.insertMany(AuditEntry, rows);
    await conn.execute('update audit_head set hash = ? where id = 1', [prevHash], 'run', ctx);
  }

  /** A page of rows, newest first (keyset on id); `before` is the older form of the cursor and still works. */
  async list(principal: Principal, q: AuditListQuery): Promise<Page<AuditEntryView>> {
    const limit = q.limit ?? DEFAULT_PAGE_LIMIT;
    const after = decodeCursor<[number]>(q.cursor, ['number'])?.[0];
    const below = Math.min(after ?? Infinity, q.before ?? Infinity);
    const where: Record<string, unknown> = {};
    if (q.since) where.at = { $gte: sinceDate(q.since) };
    if (below !== Infinity) where.id = { $lt: below };
    if (q.action) where.action = q.action.endsWith('.') ? { $like: `${escapeLike(q.action)}%` } : q.action;
    if (q.target) where.target = q.target;
    // A caller limited to some groups sees only what it did itself.
    const actor = isScoped(principal) ? actorName(principal) : q.actor;
    if (actor) where.$or = [{ actor }, { actor: { $like: `${escapeLike(actor)}/%` } }];
    const rows = await contextEm(this.orm).find(AuditEntry, where, { orderBy: { id: 'desc' }, limit: limit + 1, disableIdentityMap: true });
    return pageOf(rows.map(toView), limit, (e) => [e.id]);
  }

  /** Walks the chain from the first row; reports the first broken link. */
  async verify(): Promise<AuditVerifyResult> {
    const em = this.orm.em.fork();
    let prev = { id: 0, hash: GENESIS_HASH };
    let checked = 0;
    for (;;) {
      const rows = await em.find(AuditEntry, { id: { $gt: prev.id } }, { orderBy: { id: 'asc' }, limit: VERIFY_PAGE });
      em.clear();
      for (const row of rows) {
        const reason = brokenLink(row, prev);
        if (reason) return { ok: false, checked, firstBroken: { id: row.id, reason } };
        prev = { id: row.id, hash: row.hash };
        checked++;
      }
      if (rows.length < VERIFY_PAGE) break;
    }
    const head = await em.findOne(AuditHead, { id: 1 });
    if (head && (Number(head.seq) !== prev.id || head.hash !== prev.hash)) {
      return { ok: false, checked, firstBroken: { id: prev.id + 1, reason: `rows after ${prev.id} were removed (the chain's head is at ${head.seq})` } };
    }
    return { ok: true, checked, firstBroken: null };
  }
}

export function actorName(p: Principal): string {
  return p.kind === 'token' ? `${p.owner}/${p.name}` : p.name;
}

function sinceDate(since: string): Date {
  if (/^\d+[smhd]?$/.test(since)) return new Date(Date.now() - parseDuration(since) * 1000);
  const at = Date.parse(since);
  if (Number.isNaN(at)) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `since: want a duration (90s, 1h, 7d) or an RFC 3339 time, got "${since}"`);
  return new Date(at);
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function toView(e: AuditEntry): AuditEntryView {
  let params: Record<string, unknown>;
  try { params = JSON.parse(e.params) as Record<string, unknown>; } catch { params = {}; }
  return {
    id: Number(e.id), at: e.at.toISOString(), actorKind: e.actorKind, actor: e.actor, action: e.action, target: e.target,
    params, result: e.result, code: e.code, source: e.source, prevHash: e.prevHash, hash: e.hash,
  };
}
