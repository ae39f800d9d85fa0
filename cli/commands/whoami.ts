import type { Whoami as WhoamiView } from '../../proto/rest/auth.js';
import { renderWhoami } from '../lib/auth/render.js';
import { DataCommand } from '../lib/base-command.js';

export default class Whoami extends DataCommand {
  static override summary = 'Show who the manager sees you as: user, API token or OAuth client, with role, scope and permissions.';
  static override description = 'Ask the manager who the current credentials ($OPSCTL_TOKEN, or the token saved by opsctl login) belong to: ' +
    'the kind (user, API token or OAuth client), its name and, for a token, the user who owns it; the role and the permissions it grants; ' +
    'the node groups it is limited to (none: every node); and when the credentials expire.';
  static override examples = [
    '<%= config.bin %> whoami',
    '<%= config.bin %> whoami --json',
    'OPSCTL_TOKEN="$CI_TOKEN" <%= config.bin %> whoami --output yaml',
  ];

  async run(): Promise<WhoamiView> {
    const { flags } = await this.parse(Whoami);
    const api = await this.api(flags.server);
    const me = await api.get<WhoamiView>('/auth/whoami');
    await this.print(me, flags, (ctx) => renderWhoami(me, ctx));
    return me;
  }
}
