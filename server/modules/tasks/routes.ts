import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { CreateTaskRequest, TaskDetail, TaskIdParams, TaskListQuery, TaskSummary } from '../../../proto/rest.js';
import { actor } from '../../http/auth.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { streamEvents } from '../../http/sse.js';
import type { TasksService } from './service.js';

type IdParams = { id: string };

export function taskRoutes(app: FastifyInstance, opts: { tasks: TasksService }): void {
  const { tasks } = opts;
  app.post<{ Body: CreateTaskRequest }>('/tasks', {
    schema: {
      tags: ['tasks'], summary: 'Run a script on the nodes a selector matches (stored first, then dispatched)',
      body: CreateTaskRequest, response: { 201: envelopeOf(TaskDetail) },
    },
  }, async (req, reply) => reply.status(201).send(ok(await tasks.create(req.body, actor(req)))));

  app.get<{ Querystring: { limit?: number } }>('/tasks', {
    schema: { tags: ['tasks'], summary: 'Recent tasks, newest first', querystring: TaskListQuery, response: { 200: envelopeOf(Type.Array(TaskSummary)) } },
  }, async (req) => ok(await tasks.list(req.query.limit ?? 50)));

  app.get<{ Params: IdParams }>('/tasks/:id', {
    schema: { tags: ['tasks'], summary: 'One task with every run, its status, exit code and output tail', params: TaskIdParams, response: { 200: envelopeOf(TaskDetail) } },
  }, async (req) => ok(await tasks.get(req.params.id)));

  app.post<{ Params: IdParams }>('/tasks/:id/cancel', {
    schema: { tags: ['tasks'], summary: 'Cancel the runs that have not finished', params: TaskIdParams, response: { 200: envelopeOf(TaskDetail) } },
  }, async (req) => ok(await tasks.cancel(req.params.id)));

  app.get<{ Params: IdParams }>('/tasks/:id/events', {
    schema: {
      tags: ['tasks'], params: TaskIdParams,
      summary: 'Server-Sent Events: replays the task so far, follows it live, ends after `done`',
      description: 'Each event is `event: <type>` and `data: <json>`; types: run, started, output, exit, done (TaskStreamEvent).',
      produces: ['text/event-stream'],
    },
  }, async (req, reply) => {
    await streamEvents(req, reply, (onEvent) => tasks.follow(req.params.id, onEvent), (e) => e.type === 'done');
  });
}
