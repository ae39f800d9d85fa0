import { Flags } from '@oclif/core';
import type { TaskSummary } from '../../../proto/rest/tasks.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderTaskList } from '../../lib/tasks/render.js';

export default class TasksList extends DataCommand {
  static override summary = 'List recent tasks.';
  static override description = 'List recent tasks, newest first, with their status and how many nodes succeeded, failed or are pending.';
  static override aliases = ['tasks:ls'];
  static override examples = [
    '<%= config.bin %> tasks',
    '<%= config.bin %> tasks ls --limit 100 --json',
  ];
  static override flags = {
    limit: Flags.integer({ description: 'How many tasks to show.', default: 20, min: 1, max: 1000 }),
  };

  async run(): Promise<TaskSummary[]> {
    const { flags } = await this.parse(TasksList);
    const api = await this.api(flags.server);
    const tasks = await api.get<TaskSummary[]>(`/tasks?limit=${flags.limit}`);
    await this.print(tasks, flags, (ctx) => {
      if (tasks.length === 0 && ctx.tty) this.note('No tasks yet: run one with `opsctl tasks run --all -- uptime`.');
      return renderTaskList(tasks, ctx);
    });
    return tasks;
  }
}
