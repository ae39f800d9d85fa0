// What the task suites share to tell nodes apart and to wait: every node has its own `node-name`
// command first on its PATH (the PATH agentd gives scripts), so one script can behave differently
// per node; and a poll with a deadline, never a sleep.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A PATH whose first directory (under `scratch`) holds `node-name`, printing `name`. */
export function nodePath(scratch: string, name: string): string {
  const bin = join(scratch, name, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'node-name'), `#!/bin/sh\necho ${name}\n`);
  chmodSync(join(bin, 'node-name'), 0o755);
  return `${bin}:${process.env.PATH}`;
}

export async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
