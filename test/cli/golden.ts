// Golden files: exact expected output per command and format, in test/cli/golden/. After a
// deliberate change, regenerate with OPSCTL_UPDATE_GOLDEN=1 and review the diff like code.
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'golden');

export function assertGolden(name: string, actual: string): void {
  const file = join(dir, name);
  if (process.env.OPSCTL_UPDATE_GOLDEN === '1') writeFileSync(file, actual);
  assert.fixture(actual, readFileSync(file, 'utf8'), `output differs from test/cli/golden/${name}`);
}
