import type { FastifyInstance } from 'fastify';
import { EventView, ListEventsQuery } from '../../../proto/rest/events.js';
import { okPage, pageEnvelopeOf } from '../../http/envelope.js';
import type { EventsService } from './service.js';

export function eventRoutes(app: FastifyInstance, events: EventsService): void {
  app.get<{ Querystring: ListEventsQuery }>('/events', {
    config: { permission: 'events:read' },
    schema: {
      tags: ['events'], summary: 'Events, newest first; active=true: only those not cleared yet; a page at a time',
      description: 'Pages of `limit` events (default 100, at most 1000); pass `next` as `cursor` for the next page (null: the last). 1001 for a malformed cursor.',
      querystring: ListEventsQuery, response: { 200: pageEnvelopeOf(EventView) },
    },
  }, async (req) => okPage(await events.list(req.query)));
}
