// `opsctl completion bash`: a bash completion function with the command tree written into it.
// The walk over the typed words is the same as the zsh script's (zsh.ts): words that name a topic or
// command extend the path, a flag that takes a value skips the next word, anything else is an argument.
import { shellQuote } from '../../../lib/shell-quote.js';
import type { CompletionNode } from './tree.js';
import { isCommandFunction, valueFlagFunction } from './case-arms.js';

export function bashScript(tree: Map<string, CompletionNode>, version: string): string {
  const wordCases = [...tree].filter(([, n]) => n.words.size > 0)
    .map(([path, n]) => `    ${shellQuote(path)}) REPLY=${shellQuote([...n.words.keys()].sort().join(' '))} ;;`);
  const flagCases = [...tree].filter(([, n]) => n.flags?.length)
    .map(([path, n]) => `    ${shellQuote(path)}) REPLY=${shellQuote(n.flags!.flatMap((f) => f.names).join(' '))} ;;`);
  const valueFlag = valueFlagFunction(tree, (values) => `REPLY=${shellQuote(values.join(' '))}`);
  return `# bash completion for opsctl ${version} (written by \`opsctl completion bash\`; regenerate after an upgrade).
# Install:  opsctl completion bash > ~/.local/share/bash-completion/completions/opsctl
#     or:   echo 'source <(opsctl completion bash)' >> ~/.bashrc

# The topics and commands that may follow a command path ("" is the top level).
__opsctl_words() {
  case "$1" in
${wordCases.join('\n')}
    *) REPLY='' ;;
  esac
}

# The flags of a command.
__opsctl_flags() {
  case "$1" in
${flagCases.join('\n')}
    *) REPLY='' ;;
  esac
}

# Succeeds when "<command path> <flag>" takes a value; REPLY holds its choices ('' when free-form).
${valueFlag}

${isCommandFunction(tree)}

_opsctl() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} cmd='' w i REPLY
  COMPREPLY=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    # After --, words go to the command run on the nodes: files, as the shell would.
    [[ $w == -- ]] && return 0
    if [[ $w == -* ]]; then
      [[ $w != *=* ]] && __opsctl_value_flag "$cmd $w" && ((i++))
      continue
    fi
    __opsctl_words "$cmd"
    if [[ " $REPLY " == *" $w "* ]]; then
      cmd=\${cmd:+$cmd }$w
    elif ! __opsctl_is_command "$cmd"; then
      return 0 # a mistyped topic or command: nothing to offer
    fi
  done
  if ((COMP_CWORD > 1)) && [[ $prev == -* ]] && __opsctl_value_flag "$cmd $prev"; then
    [[ -n $REPLY ]] && COMPREPLY=($(compgen -W "$REPLY" -- "$cur"))
    return 0
  fi
  if [[ $cur == -* ]]; then
    __opsctl_flags "$cmd"
  else
    __opsctl_words "$cmd"
  fi
  # Nothing to offer (an argument, a free-form value): -o default falls back to file names.
  [[ -n $REPLY ]] && COMPREPLY=($(compgen -W "$REPLY" -- "$cur"))
  return 0
}
complete -o default -F _opsctl opsctl
`;
}
