import { Args } from '@oclif/core';
import type { NodeDetail } from '../../../proto/rest/nodes.js';
import { ApiCommand } from '../../lib/base-command.js';
import { CliError } from '../../lib/errors.js';
import { yesFlag } from '../../lib/flags.js';
import { confirmed } from '../../lib/prompt.js';

export default class NodesApprove extends ApiCommand {
  static override summary = 'Approve a known node name enrolling with a new key.';
  static override description = 'A host enrolling under a name that is already enrolled with another key (a re-installed host, or someone else) ' +
    'is held until an operator decides. Compare the key fingerprint `opsctl nodes show NAME` prints with the one hostd logs while ' +
    '"waiting for approval", then approve: the new key gets the node\'s certificate, the old certificate stops authenticating at once ' +
    '(its open stream is ended), and the node keeps its id, labels, groups and task history. `opsctl nodes deny NAME` drops the request instead. ' +
    'On a terminal opsctl asks first; without one, pass --yes.';
  static override examples = [
    '<%= config.bin %> nodes approve web-3',
    '<%= config.bin %> nodes approve web-3 --yes --server http://manager.example:8440',
  ];
  static override args = {
    name: Args.string({ description: 'Node name', required: true }),
  };
  static override flags = { yes: yesFlag() };

  async run(): Promise<NodeDetail> {
    const { args, flags } = await this.parse(NodesApprove);
    const api = await this.api(flags.server);
    const path = `/nodes/${encodeURIComponent(args.name)}`;
    if (!flags.yes) {
      const pending = (await api.get<NodeDetail>(path)).pendingEnrollment;
      // Nothing to confirm: the manager's answer (409) says why.
      if (pending && !pending.approvedAt) {
        const question = `Approve the new key ${pending.keyFingerprint} of node ${args.name} (asked from ${pending.address})? Its current certificate stops working.`;
        if (!(await confirmed(question, flags.yes, 'nodes approve'))) throw new CliError('cancelled: nothing was approved');
      }
    }
    const node = await api.post<NodeDetail>(`${path}/approve`, undefined);
    this.note(`Approved the new key of node ${node.name}; the host collects its certificate at its next try (within 30 s).`);
    return node;
  }
}
