// The bundled CLI (scripts/bundle-cli.mjs, cli/bundled.cts): what bin/opsctl.cjs runs when the build
// made it. It must hold every command of the manifest, load with its code cache, and answer as the
// unbundled dist/cli does; `top` and `server` (ES-only modules at run time) never run from it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { bundleCanRun, bundleIsCurrent } from '../../cli/bundled.cjs';
import { ConfigHome, ensureBuilt, opsctl, root } from './run-opsctl.js';

const home = new ConfigHome();

test.before(() => ensureBuilt());
test.after(() => home.remove());

test('bundleCanRun: every command but top and server itself (server status is bundled), unless OPSCTL_NO_BUNDLE is set', () => {
  const env = {};
  assert.ok(bundleCanRun(['nodes', 'ls'], env));
  assert.ok(bundleCanRun([], env));
  assert.ok(bundleCanRun(['help', 'top'], env));
  assert.ok(bundleCanRun(['--inventory', 'top', 'tasks', 'run'], env));
  assert.not.ok(bundleCanRun(['top'], env));
  assert.not.ok(bundleCanRun(['server'], env));
  assert.ok(bundleCanRun(['server', 'status'], env));
  assert.not.ok(bundleCanRun(['server', '--config', 'manager.yaml'], env));
  assert.not.ok(bundleCanRun(['--inventory=hosts.yaml', 'top'], env));
  assert.not.ok(bundleCanRun(['nodes', 'ls'], { OPSCTL_NO_BUNDLE: '1' }));
});

test('the built bundle is current, holds a class for every command of the manifest and loads with its code cache', () => {
  assert.ok(bundleIsCurrent());
  const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8')) as { commands: Record<string, unknown> };
  // In a process of its own, with no flags: V8 takes a code cache only under the flags it was made with.
  const script = `const { loadCliBundle } = await import(${JSON.stringify(pathToFileURL(join(root, 'dist', 'cli', 'bundled.cjs')).href)});
const loaded = loadCliBundle();
console.log(JSON.stringify({ cache: loaded.cacheAccepted, ids: Object.keys(loaded.bundle.COMMANDS).filter((id) => typeof loaded.bundle.COMMANDS[id] === 'function') }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  assert.is(r.status, 0, r.stderr);
  const { cache, ids } = JSON.parse(r.stdout) as { cache: boolean; ids: string[] };
  assert.ok(cache, 'V8 took the code cache');
  assert.equal(ids.sort(), Object.keys(manifest.commands).sort());
});

test('help, topic help, completion and usage errors are the same bundled and unbundled', async () => {
  for (const args of [['--help'], ['nodes', '--help'], ['help', 'tasks', 'run'], ['completion', 'bash'], ['completion', 'zsh'], ['nodes', 'ls', '--bogus'], ['bogus']]) {
    const bundled = await opsctl(home, args);
    const unbundled = await opsctl(home, args, { env: { OPSCTL_NO_BUNDLE: '1' } });
    assert.equal(bundled, unbundled, args.join(' '));
  }
});

test.run();
