// What a feature module of the manager exports from server/modules/<name>/index.ts. The manager
// finds every module folder at start (module-loader.ts) and assembles them: entities for the ORM,
// services in dependency order, routes under /api/v1 (and a few at the root). Adding a resource touches no central file.
import type { EntitySchema, MikroORM } from '@mikro-orm/core';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../lib/log.js';
import type { ManagerConfig } from './config.js';
import type { HostSessions } from './hostlink/contract.js';
import type { Leader } from './leadership/leader.js';
import type { ReplicaIdentity } from './replicas/replica.js';

/**
 * The manager's services, one object shared by the REST app and the host link gateway. Each module
 * declares its own services here:
 *   declare module '../../module.js' { interface ManagerServices { nodes: NodesService } }
 */
export interface ManagerServices {
  /** Resumes running work and starts the background timers of every module. */
  start(): Promise<void>;
  /** Stops timers and writes buffered state, modules in reverse order. */
  stop(): Promise<void>;
}

export interface ModuleContext {
  config: ManagerConfig;
  orm: MikroORM;
  log: Logger;
  sessions: HostSessions;
  /** sha256 of the manager CA (the gateway's caHash()). */
  caHash: () => string;
  /** Set when the REST API serves HTTPS: curl's --pinnedpubkey value of its certificate (http/https.ts spkiPin). */
  restTls?: { spkiPin: string };
  /** Whether this process does the once-per-cluster work (schedules, alert rules, retention). */
  leader: Leader;
  /** This manager process among the cluster's replicas; `redis` is set with redis.url. */
  replica: ReplicaIdentity;
  /** The services of the modules built so far: every module named in `after` is there. */
  services: ManagerServices;
  /** Per-module option overrides, for tests (e.g. {tasks: {timeoutGraceMs: 100}}). */
  overrides: Record<string, Record<string, unknown> | undefined>;
}

export interface RouteContext {
  config: ManagerConfig;
  services: ManagerServices;
}

export interface ManagerModule {
  /** The folder name. */
  name: string;
  /** Modules whose services this one's need. */
  after?: string[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  entities?: EntitySchema<any, any>[];
  /** Adds this module's services (declared on ManagerServices by the module itself). */
  services?(ctx: ModuleContext): Partial<ManagerServices>;
  /** Registers the module's routes; `api` is already under /api/v1. */
  routes?(api: FastifyInstance, ctx: RouteContext): void | Promise<void>;
  /** Routes outside /api/v1, where other tools expect them (GET /metrics for Prometheus). */
  rootRoutes?(app: FastifyInstance, ctx: RouteContext): void | Promise<void>;
  /** Background work after every service is built (resuming tasks, sweepers); run in order. */
  start?(services: ManagerServices): Promise<void> | void;
  /** Run in reverse order. */
  stop?(services: ManagerServices): Promise<void> | void;
}

export function defineModule(module: ManagerModule): ManagerModule {
  return module;
}
