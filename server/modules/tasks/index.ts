import { defineModule } from '../../module.js';
import { SecretBox } from '../../secret-box.js';
import { taskRoutes } from './routes.js';
import { TasksService, type TasksServiceOptions } from './service.js';
import { TaskRunSchema } from './task-run.entity.js';
import { TaskEventBlockSchema } from './task-event-block.entity.js';
import { TaskSchema } from './task.entity.js';
import type { ReplicaBus } from '../../replicas/bus.js';
import type { TaskReplicas } from './adoption.js';

const taskReplicas = (bus: ReplicaBus): TaskReplicas => ({
  id: bus.replicaId,
  alive: () => bus.alive(),
  forward: (owner, nodeId, event) => bus.send(owner, { kind: 'event', from: bus.replicaId, nodeId, event }),
  drainInbox: (dead) => bus.drain(dead),
});

declare module '../../module.js' {
  interface ManagerServices { tasks: TasksService }
}

export default defineModule({
  name: 'tasks',
  after: ['nodes', 'files', 'templates'],
  entities: [TaskSchema, TaskRunSchema, TaskEventBlockSchema],
  services: ({ orm, log, config, sessions, services, overrides, replica }) => ({
    tasks: new TasksService(orm, log.child({ module: 'tasks' }), services.nodes, sessions, SecretBox.load(config.secrets.key, config.dataDir), services.files, services.templates, {
      outputLimitBytes: config.tasks.outputLimitBytes,
      maxStoredOutputBytes: config.tasks.maxStoredOutputBytes,
      defaultTimeoutSeconds: config.tasks.defaultTimeoutSeconds,
      ...config.files,
      ...(replica.bus ? { replicas: taskReplicas(replica.bus) } : {}),
      ...(overrides.tasks as Partial<TasksServiceOptions> | undefined),
    }),
  }),
  routes: (api, { services }) => taskRoutes(api, services.tasks),
  start: (services) => services.tasks.start(),
  stop: (services) => services.tasks.stop(),
});
