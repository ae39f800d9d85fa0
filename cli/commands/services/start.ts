import { ServiceActionCommand } from '../../lib/services/command.js';

export default class ServicesStart extends ServiceActionCommand {
  static override summary = 'Start a service on nodes and show the state it is left in.';
  static override description = 'Start service NAME through each selected node\'s service manager (systemd, SysV init scripts or launchd; ' +
    'see `opsctl nodes show` for which one a node has). Select nodes by name after NAME, with -l label selectors, -g groups, or --all.\n\n' +
    'The start command\'s output is printed as it arrives, prefixed by the node name, then one line per node with the service\'s state ' +
    'afterwards (active, inactive, failed or unknown) and the error, if any; a summary follows on standard error. ' +
    'The exit code is 0 only when the start succeeded on every targeted node. Needs the services:control permission.\n\n' +
    'With --json, the runs are printed as a JSON array, each with its result {state, raw}.';
  static override usage = 'services start NAME [NODE...] [--all] [-l SELECTOR] [-g GROUP] [--timeout DURATION] [--json]';
  static override examples = [
    '<%= config.bin %> services start nginx web-1 web-2',
    "<%= config.bin %> services start nginx.service --label 'role=web' --timeout 2m",
  ];
  protected readonly action = 'start';
}
