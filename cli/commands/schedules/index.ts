import type { ScheduleView } from '../../../proto/rest/schedules.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderScheduleList } from '../../lib/schedules/render.js';

export default class SchedulesList extends DataCommand {
  static override summary = 'List schedules.';
  static override description = 'List schedules with their cron and time zone, template, next fire, and the last fire: when it was due and what came ' +
    'of it (the status of the task it created, or the error that kept it from creating one). A paused schedule shows why.';
  static override aliases = ['schedules:ls'];
  static override examples = [
    '<%= config.bin %> schedules',
    '<%= config.bin %> schedules ls --json',
  ];

  async run(): Promise<ScheduleView[]> {
    const { flags } = await this.parse(SchedulesList);
    const api = await this.api(flags.server);
    const schedules = await api.get<ScheduleView[]>('/schedules');
    await this.print(schedules, flags, (ctx) => {
      if (schedules.length === 0 && ctx.tty) this.note('No schedules yet: create one with `opsctl schedules create NAME --cron EXPR --template NAME --all`.');
      return renderScheduleList(schedules, ctx);
    });
    return schedules;
  }
}
