// The manager's services, built once from the feature modules (ManagerServices, in module.ts); the
// REST app and the host link gateway use the same instances.
import type { Logger } from '../lib/log.js';
import type { ManagerConfig } from './config.js';
import type { Orm } from './db/orm.js';
import type { HostSessions } from './hostlink/contract.js';
import { InProcessLeader, type Leader } from './leadership/leader.js';
import { newReplicaId, type ReplicaIdentity } from './replicas/replica.js';
import type { ManagerServices, ModuleContext } from './module.js';
import { loadModules } from './module-loader.js';

export type { ManagerServices };

export interface CreateServicesOptions {
  config: ManagerConfig;
  orm: Orm;
  log: Logger;
  sessions: HostSessions;
  /** sha256 of the manager CA (the gateway's caHash()). */
  caHash: () => string;
  /** Set when the REST API serves HTTPS (curl's pin of its certificate). */
  restTls?: { spkiPin: string };
  /** Who does the once-per-cluster work; one manager (the default) is always its own leader. */
  leader?: Leader;
  /** This process among the replicas; default: a new id, no Redis (a single manager). */
  replica?: ReplicaIdentity;
  /** Per-module option overrides for tests, e.g. {tasks: {timeoutGraceMs: 100}}. */
  overrides?: ModuleContext['overrides'];
}

export async function createServices(opts: CreateServicesOptions): Promise<ManagerServices> {
  const modules = await loadModules();
  const services = {} as ManagerServices;
  const ctx: ModuleContext = { ...opts, leader: opts.leader ?? new InProcessLeader(), replica: opts.replica ?? { id: newReplicaId() }, services, overrides: opts.overrides ?? {} };
  for (const m of modules) Object.assign(services, m.services?.(ctx) ?? {});
  services.start = async () => { for (const m of modules) await m.start?.(services); };
  services.stop = async () => { for (const m of [...modules].reverse()) await m.stop?.(services); };
  return services;
}

/**
 * HostSessions whose target is attached later: the gateway needs the backend (and so the task
 * service) to be built, and the task service needs the gateway's sessions.
 */
export class DeferredHostSessions implements HostSessions {
  private target?: HostSessions;

  attach(target: HostSessions): void { this.target = target; }
  get(nodeId: string) { return this.target?.get(nodeId); }
  dispatch(nodeId: string, dispatch: Parameters<HostSessions['dispatch']>[1]) { return this.target?.dispatch(nodeId, dispatch) ?? false; }
  cancel(nodeId: string, runId: string) { return this.target?.cancel(nodeId, runId) ?? false; }
  disconnect(nodeId: string, reason: string) { return this.target?.disconnect(nodeId, reason) ?? false; }
  get size() { return this.target?.size ?? 0; }
}
