// opsctl's entry point (bin/opsctl.cjs): runs oclif and turns whatever escapes a command (an unknown
// command, a broken install) into the same one-line `Error: ...` and exit code as command errors.
import { flush, run, type Interfaces } from '@oclif/core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../lib/version.js';
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

/** `options`: where oclif finds the package (a file in it, or the root and package.json); by default this file's. */
export async function main(argv: string[] = process.argv.slice(2), options: string | Interfaces.LoadOptions = import.meta.url): Promise<never> {
  try {
    await run(hoistInventory(argv), options);
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

/** Where the bundle's commands.cjs is (scripts/bundle-cli.mjs writes both). */
export const BUNDLE_COMMANDS_TARGET = './dist/cli-bundle/commands.cjs';

/**
 * main() as the bundled CLI (cli/bundled.cts) runs it: the same package.json and manifest, except
 * that oclif takes the command classes from the bundle's COMMANDS (its "explicit" discovery
 * strategy) instead of importing dist/cli/commands/<id>.js, which would load a second oclif.
 */
export function bundledMain(argv: string[]): Promise<never> {
  const root = packageRoot();
  const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Interfaces.PJSON;
  pjson.oclif = { ...pjson.oclif, commands: { strategy: 'explicit', target: BUNDLE_COMMANDS_TARGET, identifier: 'COMMANDS' } };
  return main(argv, { root, pjson });
}
