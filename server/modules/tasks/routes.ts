import type { FastifyInstance } from 'fastify';
import {
  CreateTaskRequest, RerunTaskRequest, TaskDetail, TaskEventsQuery, TaskIdParams, TaskListQuery, TaskOutputPage, TaskOutputQuery,
  TaskRunParams, TaskRunSchema, TaskRunsQuery, TaskStatusSummary, TaskSummary,
} from '../../../proto/rest/tasks.js';
import { principalOf } from '../../http/access.js';
import { envelopeOf, ok, okPage, pageEnvelopeOf, pagingNote } from '../../http/envelope.js';
import { resumePoint, streamEvents } from '../../http/sse.js';
import type { TasksService } from './service.js';

type IdParams = { id: string };

export function taskRoutes(app: FastifyInstance, tasks: TasksService): void {
  app.post<{ Body: CreateTaskRequest }>('/tasks', {
    // The permission depends on the kind (kinds.ts): tasks:run, files:read|write or services:read|control.
    config: { authenticated: true, audit: 'tasks.create' },
    schema: {
      tags: ['tasks'], summary: 'Run a task of any kind on the nodes a selector matches (stored first, then dispatched)',
      description: 'Kinds: script (tasks:run), file (upload/copy/delete: files:write, download: files:read), service (status: services:read, others: services:control), plugin (tasks:run). ' +
        'Refused with 1003 when the caller lacks the kind\'s permission or the selector matches nodes outside its scope. secretEnv values are stored encrypted and shown as ***.',
      body: CreateTaskRequest, response: { 201: envelopeOf(TaskDetail) },
    },
  }, async (req, reply) => {
    const task = await tasks.create(principalOf(req), req.body);
    reply.code(201);
    return ok(task);
  });

  app.get<{ Querystring: TaskListQuery }>('/tasks', {
    config: { permission: 'tasks:read' },
    schema: {
      tags: ['tasks'], summary: 'Recent tasks, newest first; filtered by status, node and creation time, a page at a time',
      description: `${pagingNote('tasks', 50)} 1001 for a malformed cursor.`,
      querystring: TaskListQuery, response: { 200: pageEnvelopeOf(TaskSummary) },
    },
  }, async (req) => okPage(await tasks.list(principalOf(req), req.query)));

  app.get<{ Params: IdParams }>('/tasks/:id', {
    config: { permission: 'tasks:read' },
    schema: { tags: ['tasks'], summary: 'One task with every run, its status, exit code and output tail', params: TaskIdParams, response: { 200: envelopeOf(TaskDetail) } },
  }, async (req) => ok(await tasks.get(principalOf(req), req.params.id)));

  app.get<{ Params: IdParams }>('/tasks/:id/summary', {
    config: { permission: 'tasks:read' },
    schema: {
      tags: ['tasks'], summary: 'One task without its runs: the header, its counts and how many runs are in each status',
      description: 'Cheap however many nodes the task ran on; page the runs with GET /tasks/:id/runs.',
      params: TaskIdParams, response: { 200: envelopeOf(TaskStatusSummary) },
    },
  }, async (req) => ok(await tasks.summary(principalOf(req), req.params.id)));

  app.get<{ Params: IdParams; Querystring: TaskRunsQuery }>('/tasks/:id/runs', {
    config: { permission: 'tasks:read' },
    schema: {
      tags: ['tasks'], summary: 'A task\'s runs (as in GET /tasks/:id) by node name, a page at a time; status=failed,timeout keeps those statuses',
      description: `${pagingNote('runs')} 1001 for a malformed cursor or an unknown status.`,
      params: TaskIdParams, querystring: TaskRunsQuery, response: { 200: pageEnvelopeOf(TaskRunSchema) },
    },
  }, async (req) => okPage(await tasks.runs(principalOf(req), req.params.id, req.query)));

  app.post<{ Params: IdParams; Body: RerunTaskRequest }>('/tasks/:id/rerun', {
    // The new task's kind decides the permission, as for POST /tasks.
    config: { authenticated: true, audit: 'tasks.rerun' },
    schema: {
      tags: ['tasks'], summary: 'Run a task again: on the nodes it ran on, or (failed: true) on those whose run did not succeed',
      params: TaskIdParams, body: RerunTaskRequest, response: { 201: envelopeOf(TaskDetail) },
    },
  }, async (req, reply) => {
    const task = await tasks.rerun(principalOf(req), req.params.id, req.body?.failed ?? false);
    reply.code(201);
    return ok(task);
  });

  app.get<{ Params: IdParams; Querystring: TaskOutputQuery }>('/tasks/:id/output', {
    config: { permission: 'tasks:read' },
    schema: {
      tags: ['tasks'], summary: 'The whole stored output of a task, or of one node, in order and in pages',
      description: 'Pass `next` as `after` for the next page; `next` is null at the end of what is stored so far.',
      params: TaskIdParams, querystring: TaskOutputQuery, response: { 200: envelopeOf(TaskOutputPage) },
    },
  }, async (req) => ok(await tasks.output(principalOf(req), req.params.id, req.query)));

  app.post<{ Params: IdParams }>('/tasks/:id/cancel', {
    config: { permission: 'tasks:cancel', audit: 'tasks.cancel' },
    schema: { tags: ['tasks'], summary: 'Cancel the runs that have not finished', params: TaskIdParams, response: { 200: envelopeOf(TaskDetail) } },
  }, async (req) => ok(await tasks.cancel(principalOf(req), req.params.id)));

  app.get<{ Params: { id: string; run: string } }>('/tasks/:id/runs/:run/file', {
    config: { permission: 'files:read' },
    schema: {
      tags: ['tasks'], params: TaskRunParams,
      summary: 'The file a download run brought back (raw bytes); :run is the run id or the node name',
      description: 'x-ops-sha256 carries the content\'s hash. 404 while the run has no file (not finished, failed, or not a download).',
      produces: ['application/octet-stream'],
    },
  }, async (req, reply) => {
    const file = await tasks.downloadedFile(principalOf(req), req.params.id, req.params.run);
    return reply
      .header('content-type', 'application/octet-stream')
      .header('content-length', String(file.size))
      .header('x-ops-sha256', file.sha256)
      .send(tasks.openFile(file.sha256));
  });

  app.get<{ Params: IdParams; Querystring: { after?: number } }>('/tasks/:id/events', {
    config: { permission: 'tasks:read' },
    schema: {
      tags: ['tasks'], params: TaskIdParams, querystring: TaskEventsQuery,
      summary: 'Server-Sent Events: replays the task so far, follows it live, ends after `done`',
      description: 'Each event is `id: <seq>`, `event: <type>` and `data: <json>`; types: run, started, output, exit, done (TaskStreamEvent). ' +
        'Resume after a dropped stream with the `Last-Event-ID` header (or `?after=<seq>`). A client that reads too slowly gets `event: resume` ' +
        'with `{"after": <seq>}` and the end of the stream, and resumes from there.',
      produces: ['text/event-stream'],
    },
  }, async (req, reply) => {
    const by = principalOf(req);
    await streamEvents(req, reply, {
      check: () => tasks.checkFollow(by, req.params.id),
      subscribe: (onEvent, pause) => tasks.follow(req.params.id, resumePoint(req, req.query.after), onEvent, pause),
      isLast: (e) => e.type === 'done',
    });
  });
}
