import { Flags } from '@oclif/core';
import { parseDuration } from '../../../../lib/config.js';
import type { CreateEnrollmentTokenRequest, EnrollmentTokenCreated } from '../../../../proto/rest/enrollment-tokens.js';
import { shellQuote } from '../../../../lib/shell-quote.js';
import { DataCommand } from '../../../lib/base-command.js';
import { UsageError } from '../../../lib/errors.js';
import { renderFields } from '../../../lib/output.js';

/**
 * The command line that enrolls a host with this token. The token goes in the environment, not in
 * --token: hostd keeps running, and its arguments are readable by every local user (ps).
 */
export function enrollCommand(t: EnrollmentTokenCreated): string {
  return `OPS_ENROLL_TOKEN=${t.token} hostd --manager ${t.grpcAddress} --ca-hash ${t.caHash}`;
}

/**
 * The one line that installs hostd on a new host and enrolls it, when the manager serves HTTPS. The
 * manager's CA is in no trust store there, so curl trusts the pinned key instead (-k: the pin is
 * still checked); install.sh downloads the bundle with the same pin and checks its SHA-256.
 */
export function installCommand(t: EnrollmentTokenCreated): string | undefined {
  if (!t.install) return undefined;
  return `curl -fsSL -k --pinnedpubkey ${shellQuote(t.install.spkiPin)} ${shellQuote(`${t.install.url}/install.sh`)} | sudo OPS_ENROLL_TOKEN=${t.token} sh`;
}

export default class NodesTokenCreate extends DataCommand {
  static override summary = 'Create an enrollment token and print the command that enrolls a host.';
  static override description = 'Create a one-time (or N-use) enrollment token with an expiry, and print what to run on the new host.\n\n' +
    'When the manager serves HTTPS: one line that fetches the manager\'s install script with curl, trusting the manager by its pinned ' +
    'key (--pinnedpubkey), and runs it as root. The script downloads the host bundle, checks its SHA-256, installs it under /opt/opsctl, ' +
    'writes /opt/opsctl/etc/hostd.yaml, starts hostd as the systemd service opsctl-hostd and waits for it to enroll ' +
    '(sh -s -- --help lists its options: --name, --agent-listen, --prefix, --no-start, --uninstall; sudo passes no other ' +
    'environment, so the node name and agentd\'s address go after sh -s --). Node.js 20 or later must be installed on the host.\n\n' +
    'Always: the hostd command, for a host where hostd is already installed: hostd checks the manager by its CA hash, presents the ' +
    'token once and receives its client certificate.\n\n' +
    'The token is shown only now; the manager keeps only its hash. --json adds install.url and install.spkiPin over HTTPS.';
  static override examples = [
    '<%= config.bin %> nodes token create',
    '<%= config.bin %> nodes token create --uses 10 --ttl 24h',
    '<%= config.bin %> nodes token create --ttl 15m --json',
  ];
  static override flags = {
    uses: Flags.integer({ description: 'How many hosts may enroll with this token.', default: 1, min: 1, max: 100000 }),
    ttl: Flags.string({ description: 'How long the token stays valid: 90s, 15m, 1h, 7d (at least 1m).', default: '1h', helpValue: 'DURATION' }),
  };

  async run(): Promise<EnrollmentTokenCreated> {
    const { flags } = await this.parse(NodesTokenCreate);
    let ttlSeconds: number;
    try {
      ttlSeconds = parseDuration(flags.ttl);
    } catch (err) {
      throw new UsageError(`--ttl: ${(err as Error).message}`);
    }
    if (ttlSeconds < 60) throw new UsageError(`--ttl ${flags.ttl} is too short: a token must live at least 1m`);
    const api = await this.api(flags.server);
    const body: CreateEnrollmentTokenRequest = { uses: flags.uses, ttlSeconds };
    const created = await api.post<EnrollmentTokenCreated>('/enrollment-tokens', body);
    const install = installCommand(created);
    await this.print(created, flags, (ctx) => {
      if (!ctx.tty) {
        return renderFields([
          { label: 'Token', key: 'token', value: created.token },
          { label: 'Expires', key: 'expires', value: created.expiresAt },
          { label: 'Uses', key: 'uses', value: created.uses },
          { label: 'Command', key: 'command', value: enrollCommand(created) },
          ...(install ? [{ label: 'Install', key: 'install', value: install }] : []),
        ], ctx);
      }
      const uses = created.uses === 1 ? 'one host' : `${created.uses} hosts`;
      const head = `Token:   ${created.token}\nExpires: ${created.expiresAt} (enrolls ${uses})\n\n`;
      if (!install) return `${head}On the new host, run:\n\n  ${enrollCommand(created)}\n`;
      return `${head}On the new host (Node.js 20 or later), run:\n\n  ${install}\n\n` +
        `It installs hostd under /opt/opsctl as the systemd service opsctl-hostd and enrolls the host as its host name. ` +
        `Another name or agentd address: add -s -- --name NAME --agent-listen HOST:PORT after sh.\n\n` +
        `Where hostd is already installed:\n\n  ${enrollCommand(created)}\n`;
    });
    return created;
  }
}
