// The parts of the bash and zsh scripts that are written the same in both shells.
import { shellQuote } from '../../../lib/shell-quote.js';
import type { CompletionNode } from './tree.js';

/**
 * A shell function that succeeds when "<command path> <flag>" takes a value, and sets the choices
 * (none when free-form) with `assign`, which writes the shell's assignment to its reply variable.
 */
export function valueFlagFunction(tree: Map<string, CompletionNode>, assign: (values: string[]) => string): string {
  return `__opsctl_value_flag() {
  case "$1" in
${valueFlagCases(tree, assign).join('\n')}
  esac
  return 1
}`;
}

function valueFlagCases(tree: Map<string, CompletionNode>, assign: (values: string[]) => string): string[] {
  const arms: string[] = [];
  for (const [path, n] of tree) {
    for (const f of n.flags ?? []) {
      if (!f.takesValue) continue;
      const patterns = f.names.map((name) => shellQuote(`${path} ${name}`)).join('|');
      arms.push(`    ${patterns}) ${assign(f.values)}; return 0 ;;`);
    }
  }
  return arms;
}

/**
 * A shell function that succeeds when its argument is a command path: a word that is neither a
 * topic nor a command is an argument after a command, and a mistyped command before one.
 */
export function isCommandFunction(tree: Map<string, CompletionNode>): string {
  const commands = [...tree].filter(([, n]) => n.flags).map(([path]) => shellQuote(path));
  return `__opsctl_is_command() {
  case "$1" in
    ${commands.join('|')}) return 0 ;;
  esac
  return 1
}`;
}
