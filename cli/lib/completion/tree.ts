// The command tree a completion script needs, taken from the loaded commands (oclif.manifest.json):
// for every word path ("", "nodes", "nodes token"), the words that may follow it and, when the path
// is a command, its flags. The scripts embed it, so a <TAB> costs no Node start.
import type { Command } from '@oclif/core';

export interface CompletionFlag {
  /** `--name`, and `-c` when the flag has a short form. */
  names: string[];
  description: string;
  /** Takes a value (the next word): the path walk must skip it. */
  takesValue: boolean;
  /** The values it accepts, when the command lists them (e.g. --output table|json|yaml). */
  values: string[];
}

export interface CompletionNode {
  /** Words that may come next (topics and commands), with a one-line description each. */
  words: Map<string, string>;
  /** Present when the path itself is a command. */
  flags?: CompletionFlag[];
}

/** One line, for a completion menu: the first sentence's line, without a trailing full stop. */
function oneLine(text: string | undefined): string {
  return (text ?? '').split('\n')[0].trim().replace(/\.$/, '');
}

function flagsOf(cmd: Command.Loadable): CompletionFlag[] {
  return Object.values(cmd.flags)
    .filter((f) => !f.hidden)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((f) => {
      const names = f.type === 'boolean' && f.allowNo ? [`--${f.name}`, `--no-${f.name}`] : [`--${f.name}`];
      if (f.char) names.push(`-${f.char}`);
      const values = f.type === 'option' ? [...(f.options ?? [])] : [];
      return { names, description: oneLine(f.description ?? f.summary), takesValue: f.type === 'option', values };
    });
}

export function completionTree(commands: Command.Loadable[], topics: { name: string; description?: string }[]): Map<string, CompletionNode> {
  const tree = new Map<string, CompletionNode>();
  const node = (path: string): CompletionNode => {
    let n = tree.get(path);
    if (!n) tree.set(path, (n = { words: new Map() }));
    return n;
  };
  // The package's own topics come first; oclif adds topics made from command ids after them, which
  // carry a command's summary ("nodes:token" from "nodes token create"): the first one wins.
  const topicText = new Map<string, string>();
  for (const t of topics) {
    const name = t.name.replaceAll(':', ' ');
    if (!topicText.has(name)) topicText.set(name, oneLine(t.description));
  }
  const add = (path: string, text: string, cmd: Command.Loadable) => {
    const words = path.split(' ');
    // Every prefix is reachable: "nodes token create" makes "nodes" offer "token".
    for (let i = 0; i < words.length; i++) {
      const parent = words.slice(0, i).join(' ');
      const here = words.slice(0, i + 1).join(' ');
      const described = i === words.length - 1 ? text : (topicText.get(here) ?? '');
      if (!node(parent).words.has(words[i])) node(parent).words.set(words[i], described);
    }
    node(path).flags = flagsOf(cmd);
  };
  for (const cmd of commands.filter((c) => !c.hidden)) {
    // A topic's list command (`nodes`) describes the topic, so its menu entry says what the topic is.
    const id = cmd.id.replaceAll(':', ' ');
    add(id, topicText.get(id) ?? oneLine(cmd.summary ?? cmd.description), cmd);
    for (const alias of cmd.aliases) add(alias.replaceAll(':', ' '), oneLine(cmd.summary ?? cmd.description), cmd);
  }
  return tree;
}
