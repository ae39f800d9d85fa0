import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Flags } from '@oclif/core';
import { bundleFileName } from '../../../proto/host-bundle.js';
import { parseReleaseKeyFile, signRelease, type ReleaseManifest } from '../../../proto/release.js';
import { RELEASE_HEADERS, type ReleaseView } from '../../../proto/rest/releases.js';
import { DataCommand } from '../../lib/base-command.js';
import { CliError, UsageError } from '../../lib/errors.js';
import { Progress } from '../../lib/files/progress.js';
import { durationSeconds } from '../../lib/flags.js';
import { bundleMeta } from '../../lib/releases/bundle-meta.js';
import { renderReleaseList } from '../../lib/releases/render.js';

const MAX_EXPIRY_SECONDS = 3 * 366 * 86400;

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export default class ReleaseCreate extends DataCommand {
  static override summary = 'Sign a host bundle with your key and upload it as a release.';
  static override description = 'Read the version, platform and arch from the bundle (its manifest.json, or its name opsctl-host-VERSION-PLATFORM-ARCH.tar.gz), ' +
    'hash it, sign a release manifest (component, version, platform, size, SHA-256, expiry) with KEY on this machine, and upload the bundle and the ' +
    'signed manifest. The manager accepts it only when the key is in its releases.trustedKeys and the bundle matches what was signed; hosts check ' +
    'the signature again before they install. A version, once uploaded, is never replaced.';
  static override aliases = ['releases:create'];
  static override examples = [
    '<%= config.bin %> release create --bundle dist-package/opsctl-host-1.4.0-linux-x64.tar.gz --key release.key',
    "<%= config.bin %> release create --bundle opsctl-host-1.4.0-linux-x64.tar.gz --key release.key --expires 30d --notes 'fixes the agent restart loop'",
  ];
  static override flags = {
    bundle: Flags.string({ description: 'The host bundle (.tar.gz, npm run package).', required: true, helpValue: 'FILE' }),
    key: Flags.string({ description: 'Your release key file (opsctl release keygen).', required: true, helpValue: 'FILE' }),
    version: Flags.string({ description: 'The version you expect the bundle to be (checked against it).', helpValue: 'VERSION' }),
    expires: Flags.string({ description: 'Hosts refuse to install it after this long (default 90d); a running version is never stopped for it.', default: '90d', helpValue: 'DURATION' }),
    notes: Flags.string({ description: 'Release notes, signed with the rest.', helpValue: 'TEXT' }),
  };

  async run(): Promise<ReleaseView> {
    const { flags } = await this.parse(ReleaseCreate);
    const expiresSeconds = durationSeconds('--expires', flags.expires, 3600, MAX_EXPIRY_SECONDS);
    let keyText: string;
    try { keyText = readFileSync(flags.key, 'utf8'); } catch (err) { throw new UsageError(`--key ${flags.key}: ${(err as Error).message}`); }
    const key = (() => { try { return parseReleaseKeyFile(keyText); } catch (err) { throw new UsageError(`--key ${flags.key}: ${(err as Error).message}`); } })();
    let size: number;
    try { size = statSync(flags.bundle).size; } catch (err) { throw new UsageError(`--bundle ${flags.bundle}: ${(err as Error).message}`); }
    const meta = await bundleMeta(flags.bundle, flags.version);
    const now = new Date();
    const manifest: ReleaseManifest = {
      format: 1, component: 'host', version: meta.version, platform: meta.platform, arch: meta.arch,
      file: bundleFileName(meta.version, meta.platform, meta.arch), size, sha256: await sha256Of(flags.bundle),
      createdAt: now.toISOString(), expiresAt: new Date(now.getTime() + expiresSeconds * 1000).toISOString(),
      ...(flags.notes ? { notes: flags.notes } : {}),
    };
    const signed = signRelease(manifest, key);
    const api = await this.api(flags.server);
    const progress = new Progress(`uploading ${manifest.file}`, size);
    let stored: ReleaseView;
    try {
      stored = await api.putFile<ReleaseView>(`/releases/${encodeURIComponent(manifest.version)}`, createReadStream(flags.bundle).pipe(progress.meter()), size, {
        method: 'POST',
        headers: { [RELEASE_HEADERS.manifest]: Buffer.from(signed.manifest).toString('base64'), [RELEASE_HEADERS.signature]: signed.signature, [RELEASE_HEADERS.keyId]: signed.keyId },
      });
    } finally {
      progress.end();
    }
    if (!stored) throw new CliError('the manager stored the release but said nothing about it');
    await this.print(stored, flags, (ctx) => renderReleaseList([stored], ctx));
    this.note(`Release ${stored.version} (${stored.platform}-${stored.arch}) signed with key ${signed.keyId} and stored. Roll it out with: opsctl release rollout ${stored.version} --all`);
    return stored;
  }
}
