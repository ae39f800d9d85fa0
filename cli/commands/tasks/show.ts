import { Args, Flags } from '@oclif/core';
import type { TaskDetail, TaskStatusSummary } from '../../../proto/rest/tasks.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderTask } from '../../lib/tasks/render.js';
import { fetchTaskSummary, isLargeTask, printLargeTask, SUMMARY_THRESHOLD } from '../../lib/tasks/summary-view.js';

export default class TasksShow extends DataCommand {
  static override summary = 'Show a task: its header, and per node the status, exit code, duration and output.';
  static override description = 'Show one task: what ran, who started it and when, then for each node its status, exit code, duration and output ' +
    '(the tail, when the output was longer than the manager keeps). When several nodes printed the same output and ended alike, it is shown once, ' +
    'under a header naming them as a node set: "---- web[01-40,42] (41) · succeeded, exit 0 ----", largest block last; --no-fold shows one section per node.\n\n' +
    `A task on more than ${SUMMARY_THRESHOLD} nodes is summarised: how many nodes are in each status, the nodes that did not succeed first ` +
    '(a bounded number, with their output) and one line for those that succeeded; --all prints every node, a page at a time. ' +
    '--json and --output yaml always print the whole task.';
  static override examples = [
    '<%= config.bin %> tasks show 01J9Z8Q4V7Y3T2',
    '<%= config.bin %> tasks show 01J9Z8Q4V7Y3T2 --output yaml',
    '<%= config.bin %> tasks show 01J9Z8Q4V7Y3T2 --no-fold',
    '<%= config.bin %> tasks show 01J9Z8Q4V7Y3T2 --all',
  ];
  static override args = {
    id: Args.string({ description: 'Task ID (printed by tasks run --json and listed by opsctl tasks)', required: true }),
  };
  static override flags = {
    all: Flags.boolean({ description: `Print every node, also for a task on more than ${SUMMARY_THRESHOLD} nodes (summarised otherwise).` }),
    fold: Flags.boolean({ allowNo: true, description: 'Show identical outputs once per set of nodes (the default; --no-fold: one section per node).' }),
  };

  async run(): Promise<TaskDetail | TaskStatusSummary> {
    const { args, flags } = await this.parse(TasksShow);
    const api = await this.api(flags.server);
    if (this.outputFormat(flags) === 'table') {
      const summary = await fetchTaskSummary(api, args.id);
      if (summary && isLargeTask(summary)) {
        await printLargeTask(api, summary, { tty: this.stdoutIsTty }, (text) => this.write(text), flags.all);
        return summary;
      }
    }
    const task = await api.get<TaskDetail>(`/tasks/${encodeURIComponent(args.id)}`);
    await this.print(task, flags, (ctx) => renderTask(task, ctx, { fold: flags.fold !== false }));
    return task;
  }
}
