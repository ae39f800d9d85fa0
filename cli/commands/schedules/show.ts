import { Args } from '@oclif/core';
import type { ScheduleDetail } from '../../../proto/rest/schedules.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderSchedule } from '../../lib/schedules/render.js';

export default class SchedulesShow extends DataCommand {
  static override summary = 'Show a schedule and its recent fires.';
  static override description = 'Show what a schedule runs, where, when and as whom, and its recent fires, newest first: the due time, the task it ' +
    'created (see it with opsctl tasks show ID) and its status, or why no task was created.';
  static override examples = [
    '<%= config.bin %> schedules show nightly-backup',
    '<%= config.bin %> schedules show nightly-backup --json',
  ];
  static override args = {
    name: Args.string({ description: 'Schedule name', required: true }),
  };

  async run(): Promise<ScheduleDetail> {
    const { args, flags } = await this.parse(SchedulesShow);
    const api = await this.api(flags.server);
    const schedule = await api.get<ScheduleDetail>(`/schedules/${encodeURIComponent(args.name)}`);
    await this.print(schedule, flags, (ctx) => renderSchedule(schedule, ctx));
    return schedule;
  }
}
