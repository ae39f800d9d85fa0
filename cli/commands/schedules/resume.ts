import { Args } from '@oclif/core';
import type { ScheduleDetail } from '../../../proto/rest/schedules.js';
import { ApiCommand } from '../../lib/base-command.js';

export default class SchedulesResume extends ApiCommand {
  static override summary = 'Let a paused schedule fire again.';
  static override description = 'Resume a paused schedule from its next due time (those missed while paused are not run). Refused while its template ' +
    'no longer exists or would refuse the schedule\'s parameters.';
  static override examples = [
    '<%= config.bin %> schedules resume nightly-backup',
    '<%= config.bin %> schedules resume nightly-backup --server https://ops.example.com',
  ];
  static override args = {
    name: Args.string({ description: 'Schedule name', required: true }),
  };

  async run(): Promise<ScheduleDetail> {
    const { args, flags } = await this.parse(SchedulesResume);
    const api = await this.api(flags.server);
    const schedule = await api.post<ScheduleDetail>(`/schedules/${encodeURIComponent(args.name)}/resume`, {});
    this.note(`Resumed schedule ${schedule.name}; next fire ${schedule.nextFireAt ?? 'never'}.`);
    return schedule;
  }
}
