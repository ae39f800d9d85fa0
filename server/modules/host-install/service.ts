// What a new host needs to install itself: install.sh with this manager's address, pin, host-link
// address, CA hash and bundles filled in (template: scripts/install.sh), the bundles themselves, and
// the one-line command `opsctl nodes token create` prints. Served without authentication: nothing
// here is secret (the enrollment token is what admits a host, and it is never in the script).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostOnly } from '../../../lib/host-port.js';
import { shellQuote } from '../../../lib/shell-quote.js';
import { opsVersion, packageRoot } from '../../../lib/version.js';
import type { EnrollmentTokenCreated } from '../../../proto/rest/enrollment-tokens.js';
import type { ManagerConfig } from '../../config.js';
import { BundleShelf, type AvailableBundle } from './bundles.js';

export interface HostInstallOptions {
  config: ManagerConfig;
  /** Set when the REST API serves HTTPS. */
  restTls?: { spkiPin: string };
  caHash: () => string;
}

/** Where hosts fetch install.sh, and the pin that vouches for it (plain HTTP has none). */
export type InstallSource = NonNullable<EnrollmentTokenCreated['install']>;

// A Host header that is a name or address with an optional port, and nothing a shell would read.
const SAFE_AUTHORITY = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

export class HostInstallService {
  readonly shelf: BundleShelf;
  private template?: string;

  constructor(private readonly opts: HostInstallOptions) {
    const dir = opts.config.install.bundleDir || join(packageRoot(), 'dist-package');
    this.shelf = new BundleShelf(dir, opsVersion());
  }

  /** Read per call: with port 0 the ports are known only once bound. */
  source(): InstallSource | undefined {
    return this.opts.restTls && { url: this.configuredUrl('https'), spkiPin: this.opts.restTls.spkiPin };
  }

  /** install.url, or <scheme>://<grpc.advertise host>:<http.port> (a name the REST certificate carries). */
  private configuredUrl(scheme: string): string {
    const { config } = this.opts;
    if (config.install.url) return config.install.url.replace(/\/$/, '');
    const host = hostOnly(config.grpc.advertise);
    return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${config.http.port}`;
  }

  /**
   * The script for a host that asked `scheme://authority`: the bundles it downloads come from the
   * address it already reached (a Host header a shell would read falls back to the configured one).
   */
  async script(scheme: string, authority: string | undefined): Promise<string> {
    const url = authority && SAFE_AUTHORITY.test(authority) ? `${scheme}://${authority}` : this.configuredUrl(scheme);
    const bundles = await this.shelf.list();
    const values: Record<string, string> = {
      MANAGER_URL: url,
      PIN: this.opts.restTls?.spkiPin ?? '',
      GRPC_ADDRESS: this.opts.config.grpc.advertise,
      CA_HASH: this.opts.caHash(),
      VERSION: opsVersion(),
      BUNDLES: bundles.map((b) => `${b.target} ${b.sha256} ${b.file}`).join('\n'),
    };
    return this.loadTemplate().replace(/@@([A-Z_]+)@@/g, (whole, key: string) => (key in values ? shellQuote(values[key]!) : whole));
  }

  bundle(file: string): Promise<AvailableBundle | undefined> {
    return this.shelf.find(file);
  }

  private loadTemplate(): string {
    return (this.template ??= readFileSync(join(packageRoot(), 'scripts', 'install.sh'), 'utf8'));
  }
}
