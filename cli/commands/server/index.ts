import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/base-command.js';
import { CliError } from '../../lib/errors.js';

/** What `server/main.ts` exports; imported by URL at run time so no other command loads the manager. */
interface ManagerModule {
  runManager(opts: { configFile?: string; flags?: Record<string, unknown> }): Promise<{
    stop(): Promise<void>;
    httpUrl: string;
    https?: { caFingerprint?: string };
    grpcAddress: string;
    initialAdmin?: { username: string; password: string };
    config: { dataDir: string };
  }>;
}

const MANAGER_MODULE = new URL('../../../server/main.js', import.meta.url).href;

export default class Server extends BaseCommand {
  static override summary = 'Run the manager in the foreground.';
  static override description = 'Run the manager (REST API for opsctl and the web UI, gRPC link for hostd) until SIGINT or SIGTERM, then shut down gracefully.\n\n' +
    'Configuration: flags > OPS_* environment variables > the YAML file given with --config > defaults; every option is documented in configs/manager.yaml. ' +
    'Logs are JSON on standard output; the addresses are printed on standard error (with the fingerprint of the CA opsctl login pins when the REST API serves HTTPS, see http.tls), and on the first start the generated admin password too when standard error is a terminal (it is always in <dataDir>/initial-admin.txt, mode 0600, and never in a log).';
  static override examples = [
    '<%= config.bin %> server',
    '<%= config.bin %> server --config /etc/opsctl/manager.yaml --log-level debug',
    'OPS_HTTP_PORT=9440 OPS_DATA_DIR=/var/lib/opsctl <%= config.bin %> server',
  ];
  static override flags = {
    config: Flags.string({ description: 'YAML configuration file (see configs/manager.yaml).', helpValue: 'FILE' }),
    'log-level': Flags.option({ options: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, description: 'Log level (default info).' })(),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Server);
    let mod: ManagerModule;
    try {
      mod = (await import(MANAGER_MODULE)) as ManagerModule;
    } catch (err) {
      throw new CliError(`loading the manager: ${(err as Error).message}`);
    }
    let manager: Awaited<ReturnType<ManagerModule['runManager']>>;
    try {
      manager = await mod.runManager({ configFile: flags.config, flags: { 'log.level': flags['log-level'] } });
    } catch (err) {
      throw new CliError(`starting the manager: ${(err as Error).message}`);
    }
    this.note(`opsctl manager listening: REST ${manager.httpUrl}, hosts (gRPC) ${manager.grpcAddress}`);
    // What opsctl login shows on first use: the operator compares the two before trusting it.
    if (manager.https?.caFingerprint) this.note(`REST API CA fingerprint: ${manager.https.caFingerprint}`);
    if (manager.initialAdmin) {
      const { username, password } = manager.initialAdmin;
      const file = `${manager.config.dataDir}/initial-admin.txt`;
      // Only a person at a terminal sees the password; redirected standard error is a log file.
      const shown = process.stderr.isTTY ? `  password: ${password}\n(shown once here; also in ${file}, mode 0600; change it with opsctl passwd)` :
        `  password: in ${file} (mode 0600; not printed because standard error is not a terminal)`;
      const pin = manager.https?.caFingerprint ? ` --ca-fingerprint ${manager.https.caFingerprint}` : '';
      this.note(`Created the first user. Sign in with:\n  opsctl login --server ${manager.httpUrl} --username ${username}${pin}\n${shown}`);
    }
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    // A second signal while stopping means "now": do not make the operator wait.
    const force = () => { this.note('stopping immediately'); process.exit(1); };
    process.once('SIGINT', force);
    process.once('SIGTERM', force);
    this.note(`${signal}: stopping the manager`);
    try {
      await manager.stop();
    } catch (err) {
      throw new CliError(`stopping the manager: ${(err as Error).message}`);
    }
  }
}
