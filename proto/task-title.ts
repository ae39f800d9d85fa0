// What a task does, in a few words, as `opsctl tasks ls` and the web UI's task lists name it.
import type { TaskSummary } from './rest/tasks.js';

/** The first line of the script, shortened: enough to recognise a task in a list. */
export function scriptTitle(script: string, max = 50): string {
  const first = script.split('\n').find((l) => l.trim() !== '' && !l.startsWith('#!')) ?? '';
  const line = first.trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** What a task does, in a few words: the script's first line, or the kind and its parameters. */
export function taskTitle(task: Pick<TaskSummary, 'kind' | 'script' | 'params'>, max = 50): string {
  const p = task.params ?? {};
  let text: string;
  switch (task.kind ?? 'script') {
    case 'script': return scriptTitle(task.script, max);
    case 'file': text = `file ${String(p.op)} ${String(p.path)}${p.dest ? ` ${String(p.dest)}` : ''}`; break;
    case 'service': text = `service ${String(p.action)} ${String(p.name)}`; break;
    case 'plugin': text = `plugin ${String(p.name)} ${Object.entries((p.params ?? {}) as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(' ')}`.trim(); break;
    default: text = String(task.kind);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
