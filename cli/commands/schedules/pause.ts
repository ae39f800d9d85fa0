import { Args, Flags } from '@oclif/core';
import type { ScheduleDetail } from '../../../proto/rest/schedules.js';
import { ApiCommand } from '../../lib/base-command.js';

export default class SchedulesPause extends ApiCommand {
  static override summary = 'Stop a schedule from firing until it is resumed.';
  static override description = 'Pause a schedule: it fires no more until opsctl schedules resume, and the due times in between are never run. ' +
    'The reason shows in opsctl schedules ls.';
  static override examples = [
    "<%= config.bin %> schedules pause nightly-backup --reason 'storage migration'",
  ];
  static override args = {
    name: Args.string({ description: 'Schedule name', required: true }),
  };
  static override flags = {
    reason: Flags.string({ description: 'Why, for whoever reads opsctl schedules ls.', helpValue: 'TEXT' }),
  };

  async run(): Promise<ScheduleDetail> {
    const { args, flags } = await this.parse(SchedulesPause);
    const api = await this.api(flags.server);
    const schedule = await api.post<ScheduleDetail>(`/schedules/${encodeURIComponent(args.name)}/pause`, flags.reason !== undefined ? { reason: flags.reason } : {});
    this.note(`Paused schedule ${schedule.name}.`);
    return schedule;
  }
}
