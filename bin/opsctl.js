#!/usr/bin/env node
// The opsctl CLI. Built code lives in dist/ (npm run build); commands load lazily from the
// oclif.manifest.json written by scripts/gen-manifest.mjs.
const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  // Answered without loading oclif (see cli/version.ts).
  const { versionLine } = await import('../dist/cli/version.js');
  process.stdout.write(versionLine() + '\n');
} else {
  // oclif checks its own engines range (node >= 18) on import, loading semver (~50 files) to do it:
  // a tenth of a command's start-up, for a range package.json's own engines (>= 20.18) already covers.
  process.env.OCLIF_DISABLE_ENGINE_WARNING ??= 'true';
  // The bundled CLI (scripts/bundle-cli.mjs) when it is there and current, else the tsc output.
  const { bundleCanRun, loadCliBundle } = await import('../dist/cli/bundled.js');
  const loaded = bundleCanRun(argv) ? loadCliBundle() : undefined;
  const { main } = loaded?.bundle ?? await import('../dist/cli/main.js');
  await main(argv);
}
