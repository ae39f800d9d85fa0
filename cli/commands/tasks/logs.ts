import { Args, Flags } from '@oclif/core';
import type { TaskDetail } from '../../../proto/rest/tasks.js';
import { ApiCommand } from '../../lib/base-command.js';
import { CliError } from '../../lib/errors.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { printTaskOutput } from '../../lib/tasks/output-log.js';

export default class TasksLogs extends ApiCommand {
  static override summary = 'Print the whole output of a task, and with --follow keep printing it live until the task ends.';
  static override description = 'Print everything a task\'s nodes wrote, in the order it arrived: standard output to standard output, standard error to ' +
    'standard error, each line prefixed by its node when the task ran on several (tasks show keeps only the tail of each run\'s output). ' +
    'With --follow, keep printing new output as it arrives until the task is done (Ctrl-C leaves, the task goes on).\n\n' +
    'With --json, each piece of output is one NDJSON line: {"seq":N,"node":"web-1","stream":"stdout"|"stderr","data":"..."}.';
  static override examples = [
    '<%= config.bin %> tasks logs 01J9Z8Q4V7Y3T2',
    '<%= config.bin %> tasks logs 01J9Z8Q4V7Y3T2 --node web-1 --follow',
    '<%= config.bin %> tasks logs 01J9Z8Q4V7Y3T2 --json > output.ndjson',
  ];
  static override args = {
    id: Args.string({ description: 'Task ID (printed by tasks run, listed by opsctl tasks)', required: true }),
  };
  static override flags = {
    node: Flags.string({ description: 'Only this node\'s output (its lines are not prefixed).', helpValue: 'NAME' }),
    follow: Flags.boolean({ char: 'f', description: 'Keep printing new output until the task is done.' }),
    json: Flags.boolean({ description: 'Print the output as NDJSON, one {seq, node, stream, data} object per piece.' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TasksLogs);
    const api = await this.api(flags.server);
    const task = await api.get<TaskDetail>(`/tasks/${encodeURIComponent(args.id)}`);
    if (flags.node !== undefined && !task.runs.some((r) => r.node === flags.node)) {
      throw new CliError(`task ${task.id} did not run on node "${flags.node}" (its nodes: ${task.runs.map((r) => r.node).join(', ')})`);
    }
    const end = await printTaskOutput(api, task, { node: flags.node, follow: flags.follow, json: flags.json, note: (t) => this.note(t) });
    if (end === 'interrupted') this.exit(ExitCode.INTERRUPTED);
    if (end === 'ended') throw new CliError(`the manager closed the event stream of task ${task.id} before it finished; see 'opsctl tasks show ${task.id}'`);
  }
}
