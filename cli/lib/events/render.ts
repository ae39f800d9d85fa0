// How events look in a terminal and in tab-separated output.
import type { EventView } from '../../../proto/rest/events.js';
import { renderTable, time, type Column, type RenderContext } from '../output.js';

export const EVENT_COLUMNS: Column<EventView>[] = [
  { header: 'RAISED', get: (e) => time(e.raisedAt) },
  { header: 'SEVERITY', get: (e) => e.severity },
  { header: 'KIND', get: (e) => e.kind },
  { header: 'SUBJECT', get: (e) => e.subject },
  { header: 'CLEARED', get: (e) => (e.clearedAt === null ? 'active' : time(e.clearedAt)) },
  { header: 'MESSAGE', get: (e) => e.message },
];

