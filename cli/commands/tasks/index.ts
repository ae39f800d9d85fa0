import { Flags } from '@oclif/core';
import type { TaskSummary } from '../../../proto/rest/tasks.js';
import { DataCommand } from '../../lib/base-command.js';
import { sinceTime } from '../../lib/flags.js';
import { TASK_COLUMNS } from '../../lib/tasks/render.js';

const TASK_STATUSES = ['running', 'succeeded', 'failed', 'cancelled'] as const;

export default class TasksList extends DataCommand {
  static override summary = 'List recent tasks.';
  static override description = 'List recent tasks, newest first, with their status and how many nodes succeeded, failed, were skipped or are pending ' +
    '(queued: waiting for an offline node, with --queue). Filters combine with AND.';
  static override aliases = ['tasks:ls'];
  static override examples = [
    '<%= config.bin %> tasks',
    '<%= config.bin %> tasks ls --status failed --since 1h',
    '<%= config.bin %> tasks ls --node web-1 --limit 100 --json',
  ];
  static override flags = {
    status: Flags.option({ options: TASK_STATUSES, description: 'Only tasks in this status.' })(),
    node: Flags.string({ description: 'Only tasks that ran (or are to run) on this node.', helpValue: 'NAME' }),
    since: Flags.string({ description: 'Only tasks created in the last DURATION (90s, 15m, 1h, 7d) or since an RFC 3339 time.', helpValue: 'DURATION|TIME' }),
    limit: Flags.integer({ description: 'How many tasks to show at most (newest first; read from the manager in pages).', default: 20, min: 1, max: 1_000_000 }),
  };

  async run(): Promise<TaskSummary[]> {
    const { flags } = await this.parse(TasksList);
    const query = new URLSearchParams();
    if (flags.status !== undefined) query.set('status', flags.status);
    if (flags.node !== undefined) query.set('node', flags.node);
    if (flags.since !== undefined) query.set('since', sinceTime(flags.since));
    const api = await this.api(flags.server);
    const filtered = flags.status !== undefined || flags.node !== undefined || flags.since !== undefined;
    return this.printPages(api.pages<TaskSummary>('/tasks', query, { limit: flags.limit }), flags, TASK_COLUMNS,
      () => this.note(filtered ? 'No task matches these filters.' : 'No tasks yet: run one with `opsctl tasks run --all -- uptime`.'));
  }
}
