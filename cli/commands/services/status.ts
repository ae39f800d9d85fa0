import { ServiceActionCommand } from '../../lib/services/command.js';

export default class ServicesStatus extends ServiceActionCommand {
  static override summary = 'Show whether a service is active on nodes: one line per node.';
  static override description = 'Ask each selected node\'s service manager (systemd, SysV init scripts or launchd) about service NAME and print ' +
    'one line per node: the node, the state, and the error if the node could not answer (e.g. unknown service). ' +
    'Select nodes by name after NAME, with -l label selectors, -g groups, or --all.\n\n' +
    'The state is active (running), inactive (stopped), failed (stopped after a failure), or unknown (the manager gave no clear answer). ' +
    'systemd\'s is-active answer is used as is; an init script\'s `status` exit code is read the LSB way (0 active, 3 inactive, 1 or 2 failed, ' +
    'anything else unknown). On a terminal the states are aligned and coloured; otherwise each line is node<TAB>state<TAB>error.\n\n' +
    'The exit code is 0 when every targeted node answered, whatever the state: the state is the answer. ' +
    'A node that could not answer (unknown service, no service manager, offline) makes it 1. Needs the services:read permission.\n\n' +
    'With --json, the runs are printed as a JSON array, each with its result {state, raw} (raw: the manager\'s own status text).';
  static override usage = 'services status NAME [NODE...] [--all] [-l SELECTOR] [-g GROUP] [--timeout DURATION] [--json]';
  static override examples = [
    '<%= config.bin %> services status nginx --all',
    '<%= config.bin %> services status sshd web-1 web-2 --json',
    "<%= config.bin %> services status nginx -l 'role=web' | awk -F'\\t' '$2 != \"active\"'",
  ];
  protected readonly action = 'status';
}
