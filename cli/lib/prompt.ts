// Questions on the terminal for values not given as flags; the password is read without echo.
import { createInterface } from 'node:readline';
import { UsageError } from './errors.js';

export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

export async function ask(question: string, fallback?: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolve) => rl.question(fallback ? `${question} [${fallback}]: ` : `${question}: `, resolve));
    return answer.trim() || fallback || '';
  } finally {
    rl.close();
  }
}

/** What arrived after the end of the last secret (several lines pasted at once): the next answer(s). */
let typedAhead = '';

/** Reads a line in raw mode so the typed characters never reach the screen. */
export async function askSecret(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(`${question}: `);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  let onData: ((chunk: string) => void) | undefined;
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = '';
      /** Takes characters until the end of the line; true when the answer is complete. */
      const feed = (chunk: string): boolean => {
        for (let i = 0; i < chunk.length; i++) {
          const ch = chunk[i];
          if (ch === '\r' || ch === '\n' || ch === '\u0004') {
            typedAhead = chunk.slice(ch === '\r' && chunk[i + 1] === '\n' ? i + 2 : i + 1);
            resolve(value);
            return true;
          }
          if (ch === '\u0003') { reject(new Error('interrupted')); return true; }
          if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
          else value += ch;
        }
        return false;
      };
      const pending = typedAhead;
      typedAhead = '';
      if (feed(pending)) return;
      onData = (chunk: string): void => { if (feed(chunk) && onData) stdin.off('data', onData); };
      stdin.on('data', onData);
    });
  } finally {
    if (onData) stdin.off('data', onData);
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}

export async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Standard input split into lines (a final newline does not make an empty last line). */
export async function readStdinLines(): Promise<string[]> {
  const text = (await readAllStdin()).replace(/\r?\n$/, '');
  return text === '' ? [] : text.split(/\r?\n/);
}

/**
 * Asks before something that cannot be undone. `--yes` skips the question; without a terminal to
 * ask on, --yes is required (a script must say it means it). Returns false when the answer is no.
 */
export async function confirmed(question: string, yes: boolean | undefined, command: string): Promise<boolean> {
  if (yes) return true;
  if (!canPrompt()) throw new UsageError(`${command} needs --yes when there is no terminal to confirm on`);
  const answer = await ask(`${question} [y/N]`);
  return /^y(es)?$/i.test(answer);
}
