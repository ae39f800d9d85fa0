// opsctl's entry point (bin/opsctl.js): runs oclif and turns whatever escapes a command (an unknown
// command, a broken install) into the same one-line `Error: ...` and exit code as command errors.
import { flush, run } from '@oclif/core';
import { describeError, isExitError } from './lib/base-command.js';

/**
 * `opsctl --inventory hosts.yaml tasks run ...`: oclif takes flags only after the command, so a
 * leading --inventory becomes $OPSCTL_INVENTORY, which the flag reads.
 */
function hoistInventory(argv: string[]): string[] {
  const [first, value] = argv;
  if (first?.startsWith('--inventory=')) {
    process.env.OPSCTL_INVENTORY = first.slice('--inventory='.length);
    return argv.slice(1);
  }
  if (first === '--inventory' && value !== undefined) {
    process.env.OPSCTL_INVENTORY = value;
    return argv.slice(2);
  }
  return argv;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<never> {
  try {
    await run(hoistInventory(argv), import.meta.url);
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
