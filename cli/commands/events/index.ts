import { Flags } from '@oclif/core';
import type { EventView } from '../../../proto/rest/events.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderEventList } from '../../lib/events/render.js';

export default class EventsList extends DataCommand {
  static override summary = 'List events and alerts, newest first.';
  static override description = 'List what the manager\'s alert rules raised, newest first: when, how severe (warning or critical), the kind ' +
    '(node.offline, node.disk_full, node.memory_high, agent.crash_loop), the node, when it was cleared (or "active") and the message. ' +
    'Thresholds are in the alerts section of manager.yaml; the details of each event are in --json.';
  static override aliases = ['events:ls'];
  static override examples = [
    '<%= config.bin %> events',
    '<%= config.bin %> events ls --active',
    '<%= config.bin %> events ls --limit 20 --json',
  ];
  static override flags = {
    active: Flags.boolean({ description: 'Only events not cleared yet.' }),
    limit: Flags.integer({ description: 'How many events to show.', default: 100, min: 1, max: 1000 }),
  };

  async run(): Promise<EventView[]> {
    const { flags } = await this.parse(EventsList);
    const query = new URLSearchParams({ limit: String(flags.limit) });
    if (flags.active) query.set('active', 'true');
    const api = await this.api(flags.server);
    const events = await api.get<EventView[]>(`/events?${query}`);
    await this.print(events, flags, (ctx) => {
      if (events.length === 0 && ctx.tty) this.note(flags.active ? 'No active events.' : 'No events yet.');
      return renderEventList(events, ctx);
    });
    return events;
  }
}
