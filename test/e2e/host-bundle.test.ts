// The host bundle end to end: `npm run package`'s script builds the archive, it is unpacked into an
// empty folder far from the package (no node_modules, no package.json), its manifest is checked,
// and the bundled hostd — which starts the bundled agentd beside it — enrolls with a real manager
// on loopback and runs a task. Needs `npm run build` first (npm test does it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract, list } from 'tar';
import { MANIFEST_FILE, verifyBundleDir, type BundleManifest } from '../../proto/host-bundle.js';
import type { TaskDetail } from '../../proto/rest/tasks.js';
import { packageRoot } from '../../lib/version.js';
import { api, startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { pollUntil } from '../helpers/poll.js';
import { freePorts } from '../helpers/ports.js';

const work = mkdtempSync(join(tmpdir(), 'ops-bundle-'));
const outDir = join(work, 'out');
const unpacked = join(work, 'host');
const version = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
const archiveName = `opsctl-host-${version}-${process.platform}-${process.arch}.tar.gz`;
let stack: LocalStack | undefined;

test.before(() => {
  const r = spawnSync(process.execPath, [join(packageRoot(), 'dist', 'scripts', 'package.js'), '--out-dir', outDir], { encoding: 'utf8', timeout: 120_000 });
  assert.is(r.status, 0, r.stderr);
  assert.ok(r.stdout.includes(archiveName), r.stdout);
  mkdirSync(unpacked);
});

test.after(async () => {
  await stack?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('the archive is named by version, platform and arch and holds the files at its root', async () => {
  assert.equal(readdirSync(outDir), [archiveName], 'nothing else is left in the output folder');
  const entries: string[] = [];
  await list({ file: join(outDir, archiveName), onReadEntry: (e) => { entries.push(e.path); } });
  assert.equal(entries.sort(), [MANIFEST_FILE, 'agentd.mjs', 'hostd.mjs', 'hostd-launch.sh'].sort());
});

test('the unpacked bundle matches its manifest', async () => {
  await extract({ file: join(outDir, archiveName), cwd: unpacked });
  const manifest: BundleManifest = verifyBundleDir(unpacked);
  assert.is(manifest.format, 1);
  assert.is(manifest.version, version);
  assert.is(manifest.platform, process.platform);
  assert.is(manifest.arch, process.arch);
  assert.is(manifest.node, '>=20');
  assert.ok(!Number.isNaN(Date.parse(manifest.createdAt)), manifest.createdAt);
  assert.equal(manifest.files.map((f) => f.path), ['hostd.mjs', 'agentd.mjs', 'hostd-launch.sh']);
});

test('the bundled daemons report the version compiled into them', () => {
  for (const name of ['hostd', 'agentd']) {
    const r = spawnSync(process.execPath, [join(unpacked, `${name}.mjs`), '--version'], { encoding: 'utf8', cwd: work });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, `${name} ${version}\n`);
  }
});

test('bundled hostd enrolls, starts the bundled agentd and runs a task', async () => {
  const [httpPort, grpcPort, agentPort] = await freePorts(3);
  stack = await startLocalStack({ dataDir: join(work, 'stack'), httpPort, grpcPort, agentPort, nodeName: 'bundle-node', hostdScript: join(unpacked, 'hostd.mjs') });
  // startLocalStack returned: the node is online and its agent healthy. Which agentd is it?
  const agentPid = Number(readFileSync(join(work, 'stack', 'hostd', 'agentd.pid'), 'utf8').trim());
  const argv = readFileSync(`/proc/${agentPid}/cmdline`, 'utf8').split('\0');
  assert.is(argv[1], join(unpacked, 'agentd.mjs'), argv.join(' '));

  const created = await api<{ id: string }>(stack.httpUrl, stack.token, 'POST', '/tasks', { selector: { names: ['bundle-node'] }, script: 'echo "from the bundle $((6 * 7))"' });
  assert.is(created.status, 201, created.body.message);
  const task = await pollUntil('the task to end', async () => {
    const t = await api<TaskDetail>(stack!.httpUrl, stack!.token, 'GET', `/tasks/${created.body.data.id}`);
    return t.body.data.status !== 'running' ? t.body.data : undefined;
  }, 30_000);
  const run = task.runs[0];
  assert.is(run.status, 'succeeded', JSON.stringify(run));
  assert.is(run.exitCode, 0);
  assert.match(run.output, /from the bundle 42/);

  const node = await api<{ hostdVersion: string; agentVersion: string }>(stack.httpUrl, stack.token, 'GET', '/nodes/bundle-node');
  assert.is(node.body.data.hostdVersion, version);
  assert.is(node.body.data.agentVersion, version);
});

test.run();
