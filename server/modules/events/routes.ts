import type { FastifyInstance } from 'fastify';
import { EventView, ListEventsQuery } from '../../../proto/rest/events.js';
import { okPage, pageEnvelopeOf, pagingNote } from '../../http/envelope.js';
import type { EventsService } from './service.js';

export function eventRoutes(app: FastifyInstance, events: EventsService): void {
  app.get<{ Querystring: ListEventsQuery }>('/events', {
    config: { permission: 'events:read' },
    schema: {
      tags: ['events'], summary: 'Events, newest first; active=true: only those not cleared yet; a page at a time',
      description: `${pagingNote('events')} 1001 for a malformed cursor.`,
      querystring: ListEventsQuery, response: { 200: pageEnvelopeOf(EventView) },
    },
  }, async (req) => okPage(await events.list(req.query)));
}
