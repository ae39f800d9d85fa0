import { Args } from '@oclif/core';
import { bashScript } from '../lib/completion/bash.js';
import { completionTree } from '../lib/completion/tree.js';
import { zshScript } from '../lib/completion/zsh.js';
import { BaseCommand } from '../lib/base-command.js';

const SCRIPTS = { bash: bashScript, zsh: zshScript } as const;

export default class Completion extends BaseCommand {
  static override summary = 'Print the shell completion script for bash or zsh.';
  static override description = 'The script completes topics, commands, flags and the values of flags that have a fixed set ' +
    '(e.g. --output table|json|yaml) from the commands of this opsctl; regenerate it after an upgrade. ' +
    'Nothing runs opsctl while you press TAB: the command tree is written into the script.\n\n' +
    'bash: save it where bash-completion looks, ~/.local/share/bash-completion/completions/opsctl (or /usr/share/bash-completion/completions/opsctl for everyone), ' +
    'or add `source <(opsctl completion bash)` to ~/.bashrc. ' +
    'zsh: save it as _opsctl in a directory of $fpath, or add `source <(opsctl completion zsh)` to ~/.zshrc after compinit.';
  static override args = {
    shell: Args.string({ description: 'The shell: bash or zsh.', options: Object.keys(SCRIPTS), required: true }),
  };
  static override examples = [
    '<%= config.bin %> completion bash > ~/.local/share/bash-completion/completions/opsctl',
    '<%= config.bin %> completion zsh > "${fpath[1]}/_opsctl"',
    'source <(<%= config.bin %> completion bash)',
  ];

  async run(): Promise<void> {
    const { args } = await this.parse(Completion);
    const tree = completionTree(this.config.commands, this.config.topics);
    this.write(SCRIPTS[args.shell as keyof typeof SCRIPTS](tree, this.config.version));
  }
}
