// Wires the manager's services together once; the REST app and the host link gateway both use
// the same instances.
import type { Logger } from '../lib/log.js';
import type { ManagerConfig } from './config.js';
import type { Orm } from './db/orm.js';
import type { HostLinkBackend, HostSessions } from './hostlink/contract.js';
import { EnrollmentTokensService } from './modules/enrollment-tokens/service.js';
import { NodeHostLinkBackend } from './modules/nodes/host-link-backend.js';
import { NodesService } from './modules/nodes/service.js';
import { TasksService, type TasksServiceOptions } from './modules/tasks/service.js';
import { UsersService } from './modules/users/service.js';

export interface ManagerServices {
  users: UsersService;
  nodes: NodesService;
  tokens: EnrollmentTokensService;
  tasks: TasksService;
  /** What the host link gateway calls. */
  hostLink: HostLinkBackend;
  /** Resumes running tasks and starts the background timers. */
  start(): Promise<void>;
  /** Stops timers and writes buffered task output. */
  stop(): Promise<void>;
}

export interface CreateServicesOptions {
  config: ManagerConfig;
  orm: Orm;
  log: Logger;
  sessions: HostSessions;
  /** sha256 of the manager CA (the gateway's caHash()). */
  caHash: () => string;
  /** Overrides for tests (e.g. a short timeout grace). */
  tasks?: Partial<TasksServiceOptions>;
}

export function createServices(opts: CreateServicesOptions): ManagerServices {
  const { config, orm, log } = opts;
  const users = new UsersService(orm, log.child({ module: 'users' }));
  const nodes = new NodesService(orm, log.child({ module: 'nodes' }), config.hostlink.offlineAfterSeconds, opts.sessions);
  const tokens = new EnrollmentTokensService(orm, log.child({ module: 'enrollment-tokens' }), {
    // Read per call: with grpc.port 0 the advertised port is known only once the gateway listens.
    get grpcAddress() { return config.grpc.advertise; },
    caHash: opts.caHash,
  });
  const tasks = new TasksService(orm, log.child({ module: 'tasks' }), nodes, opts.sessions, {
    outputLimitBytes: config.tasks.outputLimitBytes,
    defaultTimeoutSeconds: config.tasks.defaultTimeoutSeconds,
    ...opts.tasks,
  });
  const hostLink = new NodeHostLinkBackend(orm, log.child({ module: 'hostlink-backend' }), nodes, tokens, tasks);
  return {
    users, nodes, tokens, tasks, hostLink,
    async start() {
      await tasks.start();
      nodes.startOfflineSweeper();
    },
    async stop() {
      nodes.stopOfflineSweeper();
      await tasks.stop();
    },
  };
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
