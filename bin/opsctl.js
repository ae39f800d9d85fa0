#!/usr/bin/env node
// The opsctl CLI. Built code lives in dist/ (npm run build); commands load lazily from the
// oclif.manifest.json written by scripts/gen-manifest.mjs.
const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  // Answered without loading oclif (see cli/version.ts).
  const { versionLine } = await import('../dist/cli/version.js');
  process.stdout.write(versionLine() + '\n');
} else {
  const { main } = await import('../dist/cli/main.js');
  await main(argv);
}
