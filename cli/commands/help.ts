import { Args, loadHelpClass } from '@oclif/core';
import { BaseCommand } from '../lib/base-command.js';

export default class HelpCommand extends BaseCommand {
  static override summary = 'Show help for opsctl, a topic or a command.';
  static override strict = false;
  static override args = {
    command: Args.string({ description: 'Topic or command, e.g. "tasks run".', required: false }),
  };
  static override examples = [
    '<%= config.bin %> help',
    '<%= config.bin %> help tasks run',
  ];

  async run(): Promise<void> {
    const { argv } = await this.parse(HelpCommand);
    const Help = await loadHelpClass(this.config);
    await new Help(this.config, this.config.pjson.oclif.helpOptions).showHelp(argv as string[]);
  }
}
