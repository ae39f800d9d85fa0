import { Args } from '@oclif/core';
import type { TaskDetail } from '../../../proto/rest/tasks.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderTask } from '../../lib/tasks/render.js';

export default class TasksShow extends DataCommand {
  static override summary = 'Show a task: its header, and per node the status, exit code, duration and output.';
  static override description = 'Show one task: what ran, who started it and when, then for each node its status, exit code, duration and output ' +
    '(the tail, when the output was longer than the manager keeps).';
  static override examples = [
    '<%= config.bin %> tasks show 01J9Z8Q4V7Y3T2',
    '<%= config.bin %> tasks show 01J9Z8Q4V7Y3T2 --output yaml',
  ];
  static override args = {
    id: Args.string({ description: 'Task ID (printed by tasks run --json and listed by opsctl tasks)', required: true }),
  };

  async run(): Promise<TaskDetail> {
    const { args, flags } = await this.parse(TasksShow);
    const api = await this.api(flags.server);
    const task = await api.get<TaskDetail>(`/tasks/${encodeURIComponent(args.id)}`);
    await this.print(task, flags, (ctx) => renderTask(task, ctx));
    return task;
  }
}
