import type { ReleaseView } from '../../../proto/rest/releases.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderReleaseList } from '../../lib/releases/render.js';

export default class ReleaseList extends DataCommand {
  static override summary = 'List releases.';
  static override description = 'List the releases stored on the manager, one row per version and platform, newest version first: size, the id of ' +
    'the key that signed it, when it expires (hosts refuse to install it after that) and who uploaded it.';
  static override aliases = ['release:ls', 'releases', 'releases:ls'];
  static override examples = ['<%= config.bin %> release ls', '<%= config.bin %> release ls --json'];

  async run(): Promise<ReleaseView[]> {
    const { flags } = await this.parse(ReleaseList);
    const api = await this.api(flags.server);
    const releases = await api.get<ReleaseView[]>('/releases');
    await this.print(releases, flags, (ctx) => {
      if (releases.length === 0 && ctx.tty) this.note('No releases yet: sign and upload one with `opsctl release create --bundle FILE --key KEY`.');
      return renderReleaseList(releases, ctx);
    });
    return releases;
  }
}
