// `opsctl --version` without loading oclif: the answer scripts ask for most often should cost no
// more than starting Node. Same text as oclif's user agent: "opsctl/0.1.0 linux-x64 node-v20.20.2".
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliPackageRoot } from './bundled.cjs';

export function versionLine(): string {
  const pjson = JSON.parse(readFileSync(join(cliPackageRoot(), 'package.json'), 'utf8')) as { name: string; version: string };
  const arch = process.arch === 'ia32' ? 'x86' : process.arch;
  return `${pjson.name}/${pjson.version} ${process.platform}-${arch} node-${process.version}`;
}
