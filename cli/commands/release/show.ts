import { Args } from '@oclif/core';
import type { ReleaseDetail } from '../../../proto/rest/releases.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderRelease } from '../../lib/releases/render.js';

export default class ReleaseShow extends DataCommand {
  static override summary = 'Show a release: its builds, hash, signing key and expiry.';
  static override description = 'Show every build (platform) of a version: file, size, SHA-256, the id of the key that signed it, when it was made, ' +
    'when it expires and its notes. --json adds the signed manifest text and its signature, as hosts receive them.';
  static override aliases = ['releases:show'];
  static override examples = ['<%= config.bin %> release show 1.4.0', '<%= config.bin %> release show 1.4.0 --json'];
  static override args = { version: Args.string({ description: 'Release version', required: true }) };

  async run(): Promise<ReleaseDetail> {
    const { args, flags } = await this.parse(ReleaseShow);
    const api = await this.api(flags.server);
    const release = await api.get<ReleaseDetail>(`/releases/${encodeURIComponent(args.version)}`);
    await this.print(release, flags, (ctx) => renderRelease(release, ctx));
    return release;
  }
}
