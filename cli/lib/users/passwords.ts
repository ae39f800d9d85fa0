// Reading passwords for opsctl passwd: asked twice without echo on a terminal, or lines on stdin.
import { UsageError } from '../errors.js';
import { askSecret, canPrompt, readStdinLines } from '../prompt.js';

/** Same as MIN_PASSWORD_LENGTH in proto/rest/users.ts, which cannot be imported at run time: it loads TypeBox. */
export const MIN_PASSWORD_LENGTH = 12;

export function checkNewPassword(password: string): string {
  if (password.length < MIN_PASSWORD_LENGTH) throw new UsageError(`the new password is too short: use at least ${MIN_PASSWORD_LENGTH} characters`);
  return password;
}

/** `count` lines from standard input (--password-stdin); `what` names them for the error. */
export async function passwordsFromStdin(count: number, what: string): Promise<string[]> {
  const lines = await readStdinLines();
  if (lines.length < count || lines.slice(0, count).some((l) => l === '')) {
    throw new UsageError(`--password-stdin: expected ${what} on standard input`);
  }
  return lines.slice(0, count);
}

/** The new password, typed twice on the terminal. */
export async function askNewPassword(): Promise<string> {
  const first = checkNewPassword(await askSecret('New password'));
  const again = await askSecret('New password again');
  if (first !== again) throw new UsageError('the two new passwords differ; nothing was changed');
  return first;
}

export function requireTerminal(hint: string): void {
  if (!canPrompt()) throw new UsageError(`there is no terminal to ask for passwords on: ${hint}`);
}
