// `opsctl completion zsh`: a zsh completion function with the command tree written into it, with
// a description beside every topic, command and flag. It walks the typed words as bash.ts does.
import { shellQuote } from '../../../lib/shell-quote.js';
import type { CompletionNode } from './tree.js';
import { isCommandFunction, valueFlagFunction } from './case-arms.js';

/** A `_describe` entry: a colon in the name would end it early. */
const entry = (name: string, description: string) => shellQuote(`${name.replaceAll(':', '\\:')}:${description}`);

export function zshScript(tree: Map<string, CompletionNode>, version: string): string {
  const wordCases = [...tree].filter(([, n]) => n.words.size > 0).map(([path, n]) => {
    const entries = [...n.words].sort(([a], [b]) => a.localeCompare(b)).map(([w, d]) => entry(w, d));
    return `    ${shellQuote(path)}) reply=(${entries.join(' ')}) ;;`;
  });
  const flagCases = [...tree].filter(([, n]) => n.flags?.length).map(([path, n]) => {
    const entries = n.flags!.flatMap((f) => f.names.map((name) => entry(name, f.description)));
    return `    ${shellQuote(path)}) reply=(${entries.join(' ')}) ;;`;
  });
  const valueFlag = valueFlagFunction(tree, (values) => `reply=(${values.map(shellQuote).join(' ')})`);
  return `#compdef opsctl
# zsh completion for opsctl ${version} (written by \`opsctl completion zsh\`; regenerate after an upgrade).
# Install:  opsctl completion zsh > "\${fpath[1]}/_opsctl"   (then start a new shell)
#     or:   echo 'source <(opsctl completion zsh)' >> ~/.zshrc   (after compinit)

# The topics and commands that may follow a command path ("" is the top level), as name:description.
__opsctl_words() {
  case "$1" in
${wordCases.join('\n')}
    *) reply=() ;;
  esac
}

# The flags of a command, as name:description.
__opsctl_flags() {
  case "$1" in
${flagCases.join('\n')}
    *) reply=() ;;
  esac
}

# Succeeds when "<command path> <flag>" takes a value; reply holds its choices (none when free-form).
${valueFlag}

${isCommandFunction(tree)}

_opsctl() {
  local cmd='' w i
  local -a reply names
  for (( i = 2; i < CURRENT; i++ )); do
    w=\${words[i]}
    # After --, words go to the command run on the nodes: files, as the shell would.
    if [[ $w == -- ]]; then _files; return; fi
    if [[ $w == -* ]]; then
      [[ $w != *=* ]] && __opsctl_value_flag "$cmd $w" && (( i++ ))
      continue
    fi
    __opsctl_words "$cmd"
    # (Names alone, taken apart before the test: inside (( )) the array would be joined into one word.)
    names=(\${reply%%:*})
    if [[ \${names[(Ie)$w]} != 0 ]]; then
      cmd=\${cmd:+$cmd }$w
    elif ! __opsctl_is_command "$cmd"; then
      return 1 # a mistyped topic or command: nothing to offer
    fi
  done
  local cur=\${words[CURRENT]} prev=\${words[CURRENT-1]}
  if (( CURRENT > 2 )) && [[ $prev == -* ]] && __opsctl_value_flag "$cmd $prev"; then
    if (( $#reply )); then compadd -a reply; else _files; fi
    return
  fi
  if [[ $cur == -* ]]; then
    __opsctl_flags "$cmd"
    (( $#reply )) && _describe -t flags flag reply
    return
  fi
  __opsctl_words "$cmd"
  if (( $#reply )); then _describe -t commands command reply; else _files; fi
}

# Loaded from fpath, the file is the function's body; sourced, it registers the function.
if [[ \${funcstack[1]} == _opsctl ]]; then
  _opsctl "$@"
else
  compdef _opsctl opsctl
fi
`;
}
