import { Args } from '@oclif/core';
import type { TaskDetail } from '../../../proto/rest/tasks.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderRunStatuses } from '../../lib/tasks/render.js';

export default class TasksCancel extends DataCommand {
  static override summary = 'Cancel a running task on every node, and show where each run ended.';
  static override description = 'Cancel the runs of a task that have not finished: running commands are stopped on their nodes, ' +
    'runs not started yet (later waves, queued nodes) end without starting. Prints each node\'s resulting status; a task that already finished is refused.';
  static override examples = [
    '<%= config.bin %> tasks cancel 01J9Z8Q4V7Y3T2',
    '<%= config.bin %> tasks cancel 01J9Z8Q4V7Y3T2 --json',
  ];
  static override args = {
    id: Args.string({ description: 'Task ID (printed by tasks run, listed by opsctl tasks)', required: true }),
  };

  async run(): Promise<TaskDetail> {
    const { args, flags } = await this.parse(TasksCancel);
    const api = await this.api(flags.server);
    const task = await api.post<TaskDetail>(`/tasks/${encodeURIComponent(args.id)}/cancel`, {});
    await this.print(task, flags, (ctx) => renderRunStatuses(task, ctx));
    return task;
  }
}
