import { Flags } from '@oclif/core';
import type { AuditEntryView } from '../../../proto/rest/audit.js';
import { AUDIT_COLUMNS } from '../../lib/audit/render.js';
import { DataCommand } from '../../lib/base-command.js';
import { sinceTime } from '../../lib/flags.js';

export default class AuditList extends DataCommand {
  static override summary = 'List audit log entries, newest first.';
  static override description = 'List what was done through the manager, newest first: when, by whom (kind:name, e.g. user:alice, token:ci), ' +
    'the action (e.g. users.create, tasks.run), its target, the result (ok, or the error code it ended with) and where the request came from. ' +
    'The request parameters are in --json, with secrets shown as ***.\n\n' +
    '--action takes an exact action or a prefix ending in "." (users. for every users action).';
  static override aliases = ['audit:ls'];
  static override examples = [
    '<%= config.bin %> audit --since 1h',
    '<%= config.bin %> audit ls --actor alice --action users. --limit 20',
    '<%= config.bin %> audit ls --target web-1 --json',
  ];
  static override flags = {
    since: Flags.string({ description: 'Only entries from the last DURATION (90s, 15m, 1h, 7d) or since an RFC 3339 time.', helpValue: 'DURATION|TIME' }),
    actor: Flags.string({ description: 'Only entries by this user, token or client name.', helpValue: 'NAME' }),
    action: Flags.string({ description: 'Only this action, or actions starting with a prefix ending in "." (e.g. users.).', helpValue: 'ACTION' }),
    target: Flags.string({ description: 'Only entries about this target (a user, node, task, ...).', helpValue: 'TARGET' }),
    limit: Flags.integer({ description: 'How many entries to show at most (newest first; read from the manager in pages).', default: 100, min: 1, max: 1_000_000 }),
  };

  async run(): Promise<AuditEntryView[]> {
    const { flags } = await this.parse(AuditList);
    const query = new URLSearchParams();
    if (flags.since !== undefined) query.set('since', sinceTime(flags.since));
    if (flags.actor !== undefined) query.set('actor', flags.actor);
    if (flags.action !== undefined) query.set('action', flags.action);
    if (flags.target !== undefined) query.set('target', flags.target);
    const api = await this.api(flags.server);
    return this.printPages(api.pages<AuditEntryView>('/audit', query, { limit: flags.limit }), flags, AUDIT_COLUMNS);
  }
}
