import { Args, Flags } from '@oclif/core';
import type { CreateScheduleRequest, ScheduleDetail } from '../../../proto/rest/schedules.js';
import { DataCommand } from '../../lib/base-command.js';
import { durationSeconds } from '../../lib/flags.js';
import { renderSchedule } from '../../lib/schedules/render.js';
import { parseParamPairs } from '../../lib/tasks/plugin-task.js';
import { rolloutFlags, rolloutFromFlags } from '../../lib/tasks/rollout-flags.js';
import { buildSelector, selectorFlags } from '../../lib/tasks/selector.js';

export default class SchedulesCreate extends DataCommand {
  static override summary = 'Run a template on a cron.';
  static override description = 'Create a schedule: at every time the cron gives (five fields, minute hour day month weekday, or six with seconds first), ' +
    'in --tz (default UTC), the manager runs the template on the selected nodes as you, like opsctl tasks run --template would. ' +
    'The tasks it creates show the schedule\'s name (opsctl schedules show NAME lists them).\n\n' +
    'Refused: a cron that does not parse or never fires, one that fires more often than the manager\'s schedules.minIntervalSeconds (60 s by default), ' +
    'an unknown time zone, and parameters the template would refuse. Each due time fires once, also across manager restarts; ' +
    'due times missed while the manager was down are skipped, or with --catch-up run once, late, when it is back.';
  static override strict = false;
  static override usage = 'schedules create NAME [NODE...] [--all] [-l SELECTOR] [-g GROUP] --cron EXPR --template NAME [-p KEY=VALUE...] [FLAGS]';
  static override examples = [
    "<%= config.bin %> schedules create nightly-backup --cron '0 3 * * *' --tz Europe/Berlin --template backup -p target=s3 -g db",
    "<%= config.bin %> schedules create weekly-deploy --cron '30 6 * * 1' --template deploy -p env=prod -l role=web --batch 20% --max-fail 1 --catch-up",
  ];
  static override args = {
    name: Args.string({ description: 'Schedule name (letters, digits, . _ -)', required: true }),
  };
  static override flags = {
    ...selectorFlags,
    cron: Flags.string({ description: 'When to fire: minute hour day month weekday, or seconds first (six fields).', required: true, helpValue: 'EXPR' }),
    tz: Flags.string({ description: 'IANA time zone the cron is read in (default UTC), e.g. Europe/Berlin.', helpValue: 'ZONE' }),
    template: Flags.string({ description: 'The template to run (see `opsctl templates`).', required: true, helpValue: 'NAME' }),
    'template-version': Flags.integer({ description: 'Always run this version (default: the latest version at each fire).', min: 1, helpValue: 'N' }),
    param: Flags.string({ char: 'p', description: 'Parameter of the template, KEY=VALUE (repeatable).', multiple: true, multipleNonGreedy: true, helpValue: 'KEY=VALUE' }),
    timeout: Flags.string({ description: 'Timeout of each task: 90s, 5m, 1h (default: the manager\'s).', helpValue: 'DURATION' }),
    'catch-up': Flags.boolean({ description: 'After the manager was down over due times, fire once, late, for them (default: skip them).' }),
    ...rolloutFlags,
  };

  async run(): Promise<ScheduleDetail> {
    const { args, flags, argv } = await this.parse(SchedulesCreate);
    const body: CreateScheduleRequest = {
      name: args.name, cron: flags.cron, template: flags.template,
      selector: buildSelector((argv as string[]).slice(1), flags),
      ...rolloutFromFlags(flags),
    };
    if (flags.tz !== undefined) body.tz = flags.tz;
    if (flags['template-version'] !== undefined) body.templateVersion = flags['template-version'];
    const params = parseParamPairs(flags.param ?? []);
    if (Object.keys(params).length > 0) body.params = params;
    if (flags.timeout !== undefined) body.timeoutSeconds = durationSeconds('--timeout', flags.timeout, 1, 7 * 86400);
    if (flags['catch-up']) body.catchUp = true;
    const api = await this.api(flags.server);
    const schedule = await api.post<ScheduleDetail>('/schedules', body);
    this.note(`Created schedule ${schedule.name}; next fire ${schedule.nextFireAt ?? 'never'}.`);
    if (this.outputFormat(flags) !== 'table') await this.print(schedule, flags, (ctx) => renderSchedule(schedule, ctx));
    return schedule;
  }
}
