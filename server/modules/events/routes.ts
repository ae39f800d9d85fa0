import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { EventView, ListEventsQuery } from '../../../proto/rest/events.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import type { EventsService } from './service.js';

export function eventRoutes(app: FastifyInstance, events: EventsService): void {
  app.get<{ Querystring: ListEventsQuery }>('/events', {
    config: { permission: 'events:read' },
    schema: {
      tags: ['events'], summary: 'Events, newest first; active=true: only those not cleared yet',
      querystring: ListEventsQuery, response: { 200: envelopeOf(Type.Array(EventView)) },
    },
  }, async (req) => ok(await events.list(req.query)));
}
