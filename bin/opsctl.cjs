#!/usr/bin/env -S node --max-semi-space-size=64
// --max-semi-space-size=64 (MiB): the manager (`opsctl server`) makes much short-lived garbage in a
// fan-out; V8's default young generation (16 MiB semi-spaces) promoted it to the old generation,
// and marking a manager's old generation of a gigabyte (10,000 hosts) took a quarter of a
// 10,000-host fan-out's CPU. A cap, not a reservation: a short command never grows that far.
// Who starts the manager with `node` itself passes MANAGER_NODE_FLAGS (scripts/local-stack.ts).
// The opsctl CLI. Built code lives in dist/ (npm run build); commands load lazily from the
// oclif.manifest.json written by scripts/gen-manifest.mjs. CommonJS on purpose, like what it loads
// first (dist/cli/bundled.cjs): an ES module entry and its imports cost Node's ES module loader
// ~20 ms of CPU before a command's first line runs.
const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  // Answered without loading oclif (see cli/version.cts).
  process.stdout.write(require('../dist/cli/version.cjs').versionLine() + '\n');
} else {
  // oclif checks its own engines range (node >= 18) on import, loading semver (~50 files) to do it:
  // a tenth of a command's start-up, for a range package.json's own engines (>= 20.18) already covers.
  process.env.OCLIF_DISABLE_ENGINE_WARNING ??= 'true';
  // The bundled CLI (scripts/bundle-cli.mjs) when it is there and current, else the tsc output,
  // an ES module (`top` and `server` need it: Ink and the manager are ES-only).
  const { bundleCanRun, loadCliBundle } = require('../dist/cli/bundled.cjs');
  const loaded = bundleCanRun(argv) ? loadCliBundle() : undefined;
  if (loaded) loaded.bundle.main(argv);
  else {
    import('../dist/cli/main.js').then(({ main }) => main(argv), (err) => {
      process.stderr.write(`opsctl: cannot load dist/cli (${err.message}); run npm run build\n`);
      process.exit(1);
    });
  }
}
