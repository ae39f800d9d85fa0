// Questions on the terminal for values not given as flags; the password is read without echo.
import { createInterface } from 'node:readline';

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

/** Reads a line in raw mode so the typed characters never reach the screen. */
export async function askSecret(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(`${question}: `);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = '';
      const onData = (chunk: string): void => {
        for (const ch of chunk) {
          if (ch === '\r' || ch === '\n' || ch === '\u0004') { stdin.off('data', onData); resolve(value); return; }
          if (ch === '\u0003') { stdin.off('data', onData); reject(new Error('interrupted')); return; }
          if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
          else value += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
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
