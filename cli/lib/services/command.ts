// The one implementation behind `opsctl services start|stop|restart|status`: each command file
// names its action and its help; parsing, the request, printing and the exit code are here.
import type { ServiceAction } from '../../../proto/agent-api.js';
import { TaskCommand } from '../base-command.js';
import { ExitCode } from '../exit-codes.js';
import { colourEnabled } from '../format.js';
import { renderServiceStates } from './render.js';
import { runServiceTask, serviceArgs, serviceFlags, serviceTaskRequest, type ServiceRun } from './service-task.js';

export abstract class ServiceActionCommand extends TaskCommand {
  static override args = serviceArgs;
  static override flags = serviceFlags;
  // NAME, then any number of node names.
  static override strict = false;

  protected abstract readonly action: ServiceAction;

  async run(): Promise<ServiceRun[]> {
    // The options spelled out: oclif copies a command's own statics only, and these are inherited.
    const { args, argv, flags } = await this.parse({ args: serviceArgs, flags: serviceFlags, baseFlags: TaskCommand.baseFlags, strict: false });
    const nodes = (argv as string[]).slice(1);
    const body = serviceTaskRequest(this.action, args.name, nodes, flags);
    // start/stop/restart show what the commands printed (why a start failed); status only the states.
    const quiet = flags.json || this.action === 'status';
    const { runs, allSucceeded } = await runServiceTask(await this.taskRunner(flags), body, { quiet, note: (t) => this.note(t) });
    if (flags.json) this.write(JSON.stringify(runs, null, 2) + '\n');
    else this.write(renderServiceStates(runs, { tty: this.stdoutIsTty, colour: colourEnabled(process.stdout) }));
    if (!allSucceeded) this.exit(ExitCode.FAILURE);
    return runs;
  }
}
