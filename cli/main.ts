// opsctl's entry point (bin/opsctl.js): runs oclif and turns whatever escapes a command (an unknown
// command, a broken install) into the same one-line `Error: ...` and exit code as command errors.
import { flush, run } from '@oclif/core';
import { describeError, isExitError } from './lib/base-command.js';

export async function main(argv: string[] = process.argv.slice(2)): Promise<never> {
  try {
    await run(argv, import.meta.url);
    await flush();
    // Exit now rather than wait for idle keep-alive sockets: the work is done.
    process.exit(process.exitCode ?? 0);
  } catch (err) {
    if (isExitError(err)) process.exit(err.oclif.exit);
    const e = err as Error;
    const { message, exitCode } = describeError(err);
    process.stderr.write(`Error: ${message}\n`);
    if (process.env.OPSCTL_DEBUG) process.stderr.write(`${e?.stack}\n`);
    process.exit(exitCode);
  }
}
