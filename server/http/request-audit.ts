// Runs every route that declares `config.audit` in one database transaction and writes its
// hash-chained audit row in that transaction: who, what, target, redacted parameters, result,
// source address. A failed action is rolled back and recorded with its error code on its own.
import { RequestContext, type EntityManager } from '@mikro-orm/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { ErrorCode, OpsError } from '../../proto/errors.js';
import type { ActorKind } from '../../proto/rest/audit.js';
import { SECRET_MASK } from '../../proto/rest/tasks.js';
import { RequestTransaction } from '../db/request-transaction.js';
import type { Orm } from '../db/orm.js';

export interface AuditRecord {
  actorKind: ActorKind;
  actor: string;
  actorId: string;
  action: string;
  target: string;
  params: Record<string, unknown>;
  result: 'ok' | 'error';
  code: number;
  source: string;
}

export interface AuditSink {
  /** Appends a row inside the caller's transaction. */
  append(em: EntityManager, record: AuditRecord): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who a public route acts for (login: the user name tried). */
    auditActor?: { kind: ActorKind; name: string; id?: string };
    /** Set once the audited handler runs: it records its own outcome. */
    auditHandled?: boolean;
    /** The target an auditAfter route names once it knows it (a new rollout's id); setAuditTarget's twin. */
    auditTarget?: string;
  }
}

export function installRequestAudit(app: FastifyInstance, orm: Orm, sink: AuditSink): void {
  const appendAlone = (req: FastifyRequest, record: AuditRecord) => orm.em.fork().transactional((own) => sink.append(own, record))
    .catch((e) => req.log.error({ err: e, action: record.action }, 'writing the audit row of a failed request failed'));

  // A signed-in caller refused a change (403) is recorded too: who tried what matters most then.
  // Requests refused before that (no or bad token, malformed body) changed nothing and name no one.
  app.addHook('onError', async (req, _reply, err) => {
    const action = req.routeOptions.config?.audit;
    const thrown: unknown = err;
    if (!action || req.auditHandled || !req.principal || !(thrown instanceof OpsError && thrown.code === ErrorCode.FORBIDDEN)) return;
    await appendAlone(req, { ...actorOf(req), action, target: targetOf(req), params: auditParams(req), result: 'error', code: thrown.code, source: req.ip });
  });

  app.addHook('onRoute', (route) => {
    const action = route.config?.audit;
    if (!action) return;
    const inner = route.handler as (this: FastifyInstance, req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
    route.handler = async function audited(this: FastifyInstance, req: FastifyRequest, reply: FastifyReply) {
      req.auditHandled = true;
      if (route.config?.auditAfter) {
        const after = (result: AuditRecord['result'], code: number): AuditRecord =>
          ({ ...actorOf(req), action, target: req.auditTarget ?? targetOf(req), params: auditParams(req), result, code, source: req.ip });
        try {
          const value = await inner.call(this, req, reply);
          await appendAlone(req, after('ok', 0));
          return value;
        } catch (err) {
          await appendAlone(req, after('error', codeOf(err)));
          throw err;
        }
      }
      const em = RequestContext.getEntityManager() as EntityManager | undefined;
      if (!em) throw new Error(`audited route ${route.url} ran outside a request context`);
      let tx: RequestTransaction | undefined;
      const record = (result: AuditRecord['result'], code: number): AuditRecord =>
        ({ ...actorOf(req), action, target: tx?.target ?? targetOf(req), params: auditParams(req), result, code, source: req.ip });
      tx = await RequestTransaction.begin(em, (txEm) => sink.append(txEm, record('ok', 0)));
      try {
        const value = await tx.run(() => inner.call(this, req, reply));
        // A handler that sent its reply itself would answer before the commit; they return values.
        if (reply.sent) req.log.error({ route: route.url }, 'audited route sent its reply before its audit row was committed');
        await tx.commit();
        return value;
      } catch (err) {
        const wasOpen = tx.open;
        await tx.rollback().catch((e) => req.log.warn({ err: e }, 'rolling back a failed request'));
        // Committed already (commitNow) means the change and its ok row stand.
        if (wasOpen) await appendAlone(req, record('error', codeOf(err)));
        throw err;
      }
    } as RouteHandlerMethod;
  });
}

function actorOf(req: FastifyRequest): Pick<AuditRecord, 'actorKind' | 'actor' | 'actorId'> {
  const p = req.principal;
  if (p) return { actorKind: p.kind, actor: p.kind === 'token' ? `${p.owner}/${p.name}` : p.name, actorId: p.id };
  if (req.auditActor) return { actorKind: req.auditActor.kind, actor: req.auditActor.name, actorId: req.auditActor.id ?? '' };
  return { actorKind: 'anonymous', actor: '', actorId: '' };
}

/** The route's parameter, or the name a create request gives (users, roles, tokens, clients). */
function targetOf(req: FastifyRequest): string {
  const params = (req.params ?? {}) as Record<string, unknown>;
  const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
  const value = params.name ?? params.id ?? params.clientId ?? Object.values(params)[0] ?? body.username ?? body.name;
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

function codeOf(err: unknown): number {
  if (err instanceof OpsError) return err.code;
  const e = err as { validation?: unknown; statusCode?: number };
  if (e?.statusCode === 401) return ErrorCode.UNAUTHENTICATED;
  if (e?.statusCode === 403) return ErrorCode.FORBIDDEN;
  if (e?.statusCode === 429) return ErrorCode.RATE_LIMITED;
  if (e?.validation || (e?.statusCode && e.statusCode < 500)) return ErrorCode.INVALID_ARGUMENT;
  return ErrorCode.INTERNAL;
}

const SECRET_KEY = /pass(word)?|secret|token|key|authorization/i;
const MAX_STRING = 512;

/** Route parameters and body, with secrets masked and long values (scripts) cut. */
export function auditParams(req: FastifyRequest): Record<string, unknown> {
  // A streamed body (an upload's content) is not parameters.
  const streamed = typeof (req.body as { pipe?: unknown } | undefined)?.pipe === 'function';
  const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) && !streamed ? req.body as Record<string, unknown> : {};
  return redact({ ...(req.params as Record<string, unknown> ?? {}), ...body }) as Record<string, unknown>;
}

export function redact(value: unknown, key = ''): unknown {
  if (key === 'secretEnv' && value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).map((k) => [k, SECRET_MASK]));
  }
  if (key && SECRET_KEY.test(key) && (typeof value === 'string' || typeof value === 'number')) return SECRET_MASK;
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}… (${value.length} characters)` : value;
  if (Array.isArray(value)) return value.map((v) => redact(v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  return value;
}
