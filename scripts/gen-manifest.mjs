// Writes oclif.manifest.json for opsctl, as `oclif manifest` would, using @oclif/core's own Plugin
// loader: with the manifest, opsctl knows every command, flag and help text without importing
// the command modules, and loads only the one it runs. Run after `npm run build` (it reads dist/).
// Usage: node scripts/gen-manifest.mjs
import { Plugin } from '@oclif/core';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'oclif.manifest.json');

if (!existsSync(join(root, 'dist', 'cli', 'commands'))) {
  console.error('dist/cli/commands is missing: run `npm run build` first');
  process.exit(1);
}

// A stale manifest would be read instead of the commands; the loader must see the real ones.
const plugin = new Plugin({ root, type: 'core', isRoot: true, ignoreManifest: true, errorOnManifestCreate: true });
await plugin.load();
const count = Object.keys(plugin.manifest.commands).length;
if (count === 0) {
  console.error('no commands found under dist/cli/commands');
  process.exit(1);
}
// Written under a temporary name and renamed, so a concurrently starting opsctl never reads half a file.
const { writeFileAtomicSync } = await import('../dist/lib/atomic-write.js');
writeFileAtomicSync(target, JSON.stringify(plugin.manifest, null, 2) + '\n', 0o644);
console.error(`wrote ${count} commands to ${target}`);
