// Files end to end: the real opsctl, manager, hostd and agentd as separate processes. An upload
// goes to the manager once (by its SHA-256), down the host stream in acknowledged chunks, through
// hostd into agentd and onto disk atomically; a download comes back the same way and is saved
// per node; paths outside agentd's files.roots are refused with 1003.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, runBin, startLocalStack, type BinRun, type LocalStack } from '../../scripts/local-stack.js';
import { freePorts } from '../helpers/ports.js';

const dataDir = mkdtempSync(join(tmpdir(), 'ops-files-'));
const configHome = mkdtempSync(join(tmpdir(), 'ops-files-cfg-'));
const work = mkdtempSync(join(tmpdir(), 'ops-files-work-'));
const root = join(work, 'root');
const outside = join(work, 'outside');
mkdirSync(root, { recursive: true });
mkdirSync(outside);
symlinkSync(outside, join(root, 'escape'));
const MAX_DOWNLOAD = 4 * 1024 * 1024;
let stack: LocalStack;

const opsctl = (...args: string[]): Promise<BinRun> =>
  runBin('opsctl', args, { ...process.env, XDG_CONFIG_HOME: configHome, OPSCTL_SERVER: '', OPSCTL_TOKEN: '' }, 60_000);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test.before(async () => {
  const [httpPort, grpcPort, agentPort] = await freePorts(3);
  stack = await startLocalStack({
    dataDir, httpPort, grpcPort, agentPort, nodeName: 'files-node',
    // agentd (started by hostd) and the manager read these from the environment.
    env: { OPS_FILES_ROOTS: root, OPS_FILES_MAX_DOWNLOAD_BYTES: String(MAX_DOWNLOAD), OPS_FILES_CHUNK_BYTES: String(64 * 1024), OPS_FILES_WINDOW_BYTES: String(256 * 1024) },
  });
  const login = await opsctl('login', '--server', stack.httpUrl, '--username', stack.admin.username, '--password', stack.admin.password);
  assert.is(login.code, 0, login.stderr);
});

test.after(async () => {
  await stack?.stop();
  for (const d of [dataDir, configHome, work]) rmSync(d, { recursive: true, force: true });
});

test('upload: stored once on the manager, written on the node with its mode, no temp file left', async () => {
  const data = randomBytes(3 * 1024 * 1024 + 123);
  const local = join(work, 'blob.bin');
  writeFileSync(local, data);
  const dest = join(root, 'blob.bin');
  const r = await opsctl('files', 'upload', local, dest, 'files-node', '--mode', '0600');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /stored blob\.bin on the manager/);
  assert.match(r.stdout, /files-node: wrote .*blob\.bin \(3145851 bytes/);
  assert.match(r.stderr, /1 node: 1 succeeded/);
  assert.ok(readFileSync(dest).equals(data));
  assert.is(statSync(dest).mode & 0o777, 0o600);
  assert.equal(readdirSync(root).filter((n) => n.includes('.opsctl-')), []);
  assert.ok(existsSync(join(dataDir, 'manager', 'files', sha(data).slice(0, 2), sha(data))));

  // The same content again: the manager has it, nothing is sent to it a second time.
  const again = await opsctl('files', 'upload', local, join(root, 'blob-2.bin'), '--all', '--json');
  assert.is(again.code, 0, again.stderr);
  assert.not.match(again.stderr, /stored blob\.bin/);
  const exit = again.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; result?: { sha256: string } }).find((e) => e.type === 'exit');
  assert.is(exit?.result?.sha256, sha(data));
});

test('download: one hash-checked copy per node in DIR/<node>/; over files.maxDownloadBytes is refused', async () => {
  const data = randomBytes(1024 * 1024 + 7);
  writeFileSync(join(root, 'log.txt'), data);
  const dest = join(work, 'downloads');
  const r = await opsctl('files', 'download', join(root, 'log.txt'), '--all', '--dest', dest);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /files-node: saved .*files-node\/log\.txt/);
  assert.ok(readFileSync(join(dest, 'files-node', 'log.txt')).equals(data));

  writeFileSync(join(root, 'huge.bin'), Buffer.alloc(MAX_DOWNLOAD + 1));
  const big = await opsctl('files', 'download', join(root, 'huge.bin'), '--all', '--dest', dest);
  assert.is(big.code, 1);
  assert.match(big.stderr, /over the download limit of 4194304/);
  assert.not.ok(existsSync(join(dest, 'files-node', 'huge.bin')));
});

test('copy and delete on the node', async () => {
  writeFileSync(join(root, 'a.conf'), 'a=1\n');
  const c = await opsctl('files', 'copy', join(root, 'a.conf'), join(root, 'a.conf.bak'), '--all');
  assert.is(c.code, 0, c.stderr);
  assert.is(readFileSync(join(root, 'a.conf.bak'), 'utf8'), 'a=1\n');
  const d = await opsctl('files', 'delete', join(root, 'a.conf.bak'), '--all');
  assert.is(d.code, 0, d.stderr);
  assert.not.ok(existsSync(join(root, 'a.conf.bak')));
});

test('outside the roots, .., a symlink escape: refused per node with 1003, nothing written', async () => {
  const local = join(work, 'small.txt');
  writeFileSync(local, 'x');
  for (const dest of [join(outside, 'x.txt'), `${root}/../outside/y.txt`, join(root, 'escape', 'z.txt')]) {
    const r = await opsctl('files', 'upload', local, dest, '--all', '--json');
    assert.is(r.code, 1, `${dest}: ${r.stderr}`);
    const exit = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; status?: string; errorCode?: number; error?: string }).find((e) => e.type === 'exit');
    assert.is(exit?.status, 'error');
    assert.is(exit?.errorCode, 1003, exit?.error);
  }
  assert.equal(readdirSync(outside), []);
  const usage = await opsctl('files', 'upload', local, 'relative/path', '--all');
  assert.is(usage.code, 2);
  assert.match(usage.stderr, /must be an absolute path/);
});

test('the manager refuses content that does not hash to the name it is stored under', async () => {
  const res = await fetch(`${stack.httpUrl}/api/v1/files/${'0'.repeat(64)}`, {
    method: 'PUT', body: 'not that', headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${await token()}` },
  });
  assert.is(res.status, 400);
  assert.match(((await res.json()) as { message: string }).message, /content sha256 is [0-9a-f]{64}, not 0{64}/);
  assert.not.ok(existsSync(join(dataDir, 'manager', 'files', '00')));
});

// Last: it kills the host.
test('a host that drops mid-upload ends that run as failed with a clear message', async () => {
  const data = randomBytes(64 * 1024 * 1024);
  const local = join(work, 'drop.bin');
  writeFileSync(local, data);
  const auth = await token();
  const store = await fetch(`${stack.httpUrl}/api/v1/files/${sha(data)}`, {
    method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${auth}` },
  });
  assert.is(store.status, 201);
  const created = await api<{ id: string }>(stack.httpUrl, auth, 'POST', '/tasks', {
    selector: { all: true }, kind: 'file', file: { op: 'upload', path: join(root, 'drop.bin'), sha256: sha(data) }, timeoutSeconds: 120,
  });
  assert.is(created.status, 201, created.body.message);
  // Kill hostd as soon as agentd has started writing the temp file.
  const deadline = Date.now() + 30_000;
  while (!readdirSync(root).some((n) => n.startsWith('.drop.bin.opsctl-'))) {
    if (Date.now() > deadline) throw new Error('the upload never started on the host');
    await new Promise((r) => setTimeout(r, 5));
  }
  stack.hostd.kill('SIGKILL');
  let run: { status: string; error: string | null } | undefined;
  while (Date.now() < deadline + 30_000) {
    const t = await api<{ status: string; runs: { status: string; error: string | null }[] }>(stack.httpUrl, auth, 'GET', `/tasks/${created.body.data.id}`);
    run = t.body.data.runs[0];
    if (t.body.data.status !== 'running') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.is(run?.status, 'error');
  assert.match(run?.error ?? '', /the host disconnected mid-upload \(\d+ of 67108864 bytes passed on\)/);
  assert.not.ok(existsSync(join(root, 'drop.bin')), 'no half file under the final name');
  // agentd lost its content stream with hostd: it removes its temp file too.
  const agentdPid = Number(readFileSync(join(dataDir, 'hostd', 'agentd.pid'), 'utf8').trim());
  try {
    const until = Date.now() + 15_000;
    while (readdirSync(root).some((n) => n.startsWith('.drop.bin.opsctl-'))) {
      if (Date.now() > until) throw new Error(`temp file left behind: ${readdirSync(root).join(', ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    // hostd died without stopping it; the test owns its lifetime.
    process.kill(agentdPid, 'SIGTERM');
  }
});

async function token(): Promise<string> {
  const res = await api<{ token: string }>(stack.httpUrl, undefined, 'POST', '/auth/login', { username: stack.admin.username, password: stack.admin.password });
  return res.body.data.token;
}

test.run();
