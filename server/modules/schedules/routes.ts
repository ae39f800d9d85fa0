import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { CreateScheduleRequest, PauseScheduleRequest, ScheduleDetail, ScheduleNameParams, ScheduleView } from '../../../proto/rest/schedules.js';
import { principalOf } from '../../http/access.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import type { SchedulesService } from './service.js';

type NameParams = { name: string };

export function scheduleRoutes(app: FastifyInstance, schedules: SchedulesService): void {
  app.get('/schedules', {
    config: { permission: 'schedules:read' },
    schema: { tags: ['schedules'], summary: 'Schedules with their next due time and last fire', response: { 200: envelopeOf(Type.Array(ScheduleView)) } },
  }, async () => ok(await schedules.list()));

  app.post<{ Body: CreateScheduleRequest }>('/schedules', {
    config: { permission: 'schedules:write', audit: 'schedules.create' },
    schema: {
      tags: ['schedules'], summary: 'Run a template on a cron, as you (you need tasks:run)',
      description: 'Refused (1001) when the cron does not parse, never fires, or fires more often than schedules.minIntervalSeconds; when tz is not a time zone; ' +
        'or when the template, version or parameter values would not run. Each fire creates a task with schedule set to this name.',
      body: CreateScheduleRequest, response: { 201: envelopeOf(ScheduleDetail) },
    },
  }, async (req, reply) => {
    const schedule = await schedules.create(principalOf(req), req.body);
    reply.code(201);
    return ok(schedule);
  });

  app.get<{ Params: NameParams }>('/schedules/:name', {
    config: { permission: 'schedules:read' },
    schema: { tags: ['schedules'], summary: 'One schedule and its recent fires, newest first', params: ScheduleNameParams, response: { 200: envelopeOf(ScheduleDetail) } },
  }, async (req) => ok(await schedules.get(req.params.name)));

  app.post<{ Params: NameParams; Body: { reason?: string } }>('/schedules/:name/pause', {
    config: { permission: 'schedules:write', audit: 'schedules.pause' },
    schema: { tags: ['schedules'], summary: 'Stop firing until resumed; body {reason?} (may be {})', params: ScheduleNameParams, body: PauseScheduleRequest, response: { 200: envelopeOf(ScheduleDetail) } },
  }, async (req) => ok(await schedules.pause(req.params.name, req.body.reason)));

  app.post<{ Params: NameParams }>('/schedules/:name/resume', {
    config: { permission: 'schedules:write', audit: 'schedules.resume' },
    schema: { tags: ['schedules'], summary: 'Fire again from the next due time (due times while paused are not caught up)', params: ScheduleNameParams, response: { 200: envelopeOf(ScheduleDetail) } },
  }, async (req) => ok(await schedules.resume(req.params.name)));

  app.delete<{ Params: NameParams }>('/schedules/:name', {
    config: { permission: 'schedules:write', audit: 'schedules.delete' },
    schema: { tags: ['schedules'], summary: 'Delete a schedule and its fire history (its tasks stay)', params: ScheduleNameParams, response: { 200: envelopeOf(Type.Null()) } },
  }, async (req) => {
    await schedules.remove(req.params.name);
    return ok(null);
  });
}
