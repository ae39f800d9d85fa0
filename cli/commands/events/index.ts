import { Flags } from '@oclif/core';
import type { EventView } from '../../../proto/rest/events.js';
import { DataCommand } from '../../lib/base-command.js';
import { EVENT_COLUMNS } from '../../lib/events/render.js';

export default class EventsList extends DataCommand {
  static override summary = 'List events and alerts, newest first.';
  static override description = 'List what the manager\'s alert rules raised, newest first: when, how severe (warning or critical), the kind ' +
    '(node.offline, node.disk_full, node.memory_high, agent.crash_loop, agent.over_limit, agent.incompatible, rollout.halted), the node, when it was cleared (or "active") and the message. ' +
    'Thresholds are in the alerts section of manager.yaml; the details of each event are in --json.';
  static override aliases = ['events:ls'];
  static override examples = [
    '<%= config.bin %> events',
    '<%= config.bin %> events ls --active',
    '<%= config.bin %> events ls --limit 20 --json',
  ];
  static override flags = {
    active: Flags.boolean({ description: 'Only events not cleared yet.' }),
    limit: Flags.integer({ description: 'How many events to show at most (newest first; read from the manager in pages).', default: 100, min: 1, max: 1_000_000 }),
  };

  async run(): Promise<EventView[]> {
    const { flags } = await this.parse(EventsList);
    const query = new URLSearchParams();
    if (flags.active) query.set('active', 'true');
    const api = await this.api(flags.server);
    return this.printPages(api.pages<EventView>('/events', query, { limit: flags.limit }), flags, EVENT_COLUMNS,
      () => this.note(flags.active ? 'No active events.' : 'No events yet.'));
  }
}
