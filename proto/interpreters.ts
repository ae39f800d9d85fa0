// The script interpreters, once: the name a task gives, the command agentd runs (looked up on its
// PATH), the file extension the script is written with (pwsh runs only .ps1 files), and the `#!`
// names opsctl recognises in a script file. No imports: opsctl reads it at run time.

export const INTERPRETERS = {
  sh: { command: 'sh', extension: '.sh', shebang: ['sh', 'dash', 'ash'] },
  bash: { command: 'bash', extension: '.sh', shebang: ['bash'] },
  python: { command: 'python3', extension: '.py', shebang: ['python', 'python3'] },
  /** The older name of `python`, still accepted. */
  python3: { command: 'python3', extension: '.py', shebang: [] },
  pwsh: { command: 'pwsh', extension: '.ps1', shebang: ['pwsh', 'powershell'] },
} as const;

export type InterpreterName = keyof typeof INTERPRETERS;
export const INTERPRETER_NAMES = Object.keys(INTERPRETERS) as InterpreterName[];

/**
 * The interpreter a script's first line names (`#!/bin/bash`, `#!/usr/bin/env python3`,
 * `#!/usr/bin/env -S pwsh -NoProfile`), undefined without a `#!` line, or an Error naming what it
 * did not recognise.
 */
export function interpreterFromShebang(script: string): InterpreterName | Error | undefined {
  const first = script.split('\n', 1)[0].trim();
  if (!first.startsWith('#!')) return undefined;
  const words = first.slice(2).trim().split(/\s+/).filter(Boolean);
  let program = words[0]?.split('/').pop() ?? '';
  if (program === 'env') program = words.slice(1).find((w) => !w.startsWith('-')) ?? '';
  // python3.11 is python.
  if (/^python\d+(\.\d+)*$/.test(program)) program = 'python';
  for (const name of INTERPRETER_NAMES) {
    if ((INTERPRETERS[name].shebang as readonly string[]).includes(program)) return name;
  }
  return new Error(`cannot tell the interpreter from "${first}": use --interpreter (${INTERPRETER_NAMES.join(', ')})`);
}
