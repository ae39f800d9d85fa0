// A script given as a file (tasks run --script, templates create --script): read, refused when
// missing or empty, and its interpreter told from its #! line when --interpreter does not say.
import { readFile } from 'node:fs/promises';
import { interpreterFromShebang, type InterpreterName } from '../../../proto/interpreters.js';
import { UsageError } from '../errors.js';

export async function readScriptFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`reading script ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  if (text.trim() === '') throw new UsageError(`script ${file} is empty`);
  return text;
}

/** The interpreter a script file's #! line names; an unrecognised one is a usage error. */
export function shebangInterpreter(script: string): InterpreterName | undefined {
  const found = interpreterFromShebang(script);
  if (found instanceof Error) throw new UsageError(found.message);
  return found;
}
