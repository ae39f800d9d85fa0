// The `file` kind on real files in temp roots: uploads written through a temp file and renamed,
// every way out of the roots refused with 1003 and nothing written, downloads streamed in pieces,
// copy and delete; and an upload's content over agentd's real HTTP API, signed with its sha256.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { AGENT_API, type AgentExecEvent, type AgentExecRequest, type FileParams } from '../../proto/agent-api.js';
import { signRequest } from '../../proto/signing.js';
import type { AgentExecutor } from '../../agentd/exec/executor.js';
import { inject, KEY_ID, newApp, newExecutor, SECRET, signedHeaders, tempDir } from './helpers/fixtures.js';

const base = tempDir('agentd-files-');
const root = join(base, 'root');
const outside = join(base, 'outside');
mkdirSync(join(root, 'sub'), { recursive: true });
mkdirSync(outside);
writeFileSync(join(outside, 'secret.txt'), 'not yours');
symlinkSync(outside, join(root, 'escape'));
symlinkSync(join(outside, 'secret.txt'), join(root, 'secret-link'));
const ex = newExecutor({ fileRoots: [root] });
test.after(async () => {
  await ex.shutdown(0);
  rmSync(base, { recursive: true, force: true });
});

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
let seq = 0;
const fileRun = (params: FileParams): AgentExecRequest => ({ runId: `f-${++seq}`, kind: 'file', params });

async function runFile(executor: AgentExecutor, params: FileParams, content?: Buffer | Readable) {
  const events: AgentExecEvent[] = [];
  const req = fileRun(params);
  const done = executor.submit(req, (e) => { events.push(e); });
  if (content) await executor.giveContent(req.runId, Buffer.isBuffer(content) ? Readable.from([content]) : content).catch(() => {});
  await done;
  const exit = events.find((e) => e.type === 'exit') as Extract<AgentExecEvent, { type: 'exit' }>;
  return { events, exit };
}

/** The run is refused before it starts: an OpsError with this code, and no run was queued. */
function refused(params: FileParams, code: number, message: RegExp) {
  assert.throws(() => ex.submit(fileRun(params), () => {}), (err: { code: number; message: string }) => {
    assert.is(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}

const leftovers = (dir: string) => readdirSync(dir).filter((n) => n.includes('.opsctl-'));

test('upload: written with its mode, hash checked, no temp file left; an existing file is replaced', async () => {
  const data = Buffer.from('hello world\n');
  const path = join(root, 'sub', 'hello.txt');
  const { exit } = await runFile(ex, { op: 'upload', path, sha256: sha(data), size: data.length, mode: '0640' }, data);
  assert.is(exit.status, 'succeeded', exit.error ?? '');
  assert.equal(exit.result, { path, size: data.length, sha256: sha(data) });
  assert.is(readFileSync(path, 'utf8'), 'hello world\n');
  assert.is(statSync(path).mode & 0o777, 0o640);
  const next = Buffer.from('second\n');
  assert.is((await runFile(ex, { op: 'upload', path, sha256: sha(next), size: next.length }, next)).exit.status, 'succeeded');
  assert.is(readFileSync(path, 'utf8'), 'second\n');
  assert.is(statSync(path).mode & 0o777, 0o644);
  assert.equal(leftovers(join(root, 'sub')), []);
});

test('upload --owner: numeric ids set the owner; an unknown user fails the run and writes nothing', async () => {
  const data = Buffer.from('owned\n');
  const path = join(root, 'owned.txt');
  // Root may give a file away; anyone else can only name themselves.
  const [uid, gid] = process.getuid!() === 0 ? [65534, 65534] : [process.getuid!(), process.getgid!()];
  const ok = await runFile(ex, { op: 'upload', path, sha256: sha(data), size: data.length, owner: `${uid}:${gid}` }, data);
  assert.is(ok.exit.status, 'succeeded', ok.exit.error ?? '');
  assert.is(statSync(path).uid, uid);
  assert.is(statSync(path).gid, gid);
  const other = join(root, 'unowned.txt');
  const bad = await runFile(ex, { op: 'upload', path: other, sha256: sha(data), size: data.length, owner: 'no-such-user-opsctl' }, data);
  assert.is(bad.exit.status, 'error');
  assert.match(bad.exit.error!, /no user no-such-user-opsctl on this host/);
  assert.not.ok(existsSync(other));
  assert.equal(leftovers(root), []);
});

test('upload: content that does not match its sha256, or ends short, writes nothing', async () => {
  const path = join(root, 'bad.txt');
  const wrong = await runFile(ex, { op: 'upload', path, sha256: sha('something else'), size: 5 }, Buffer.from('12345'));
  assert.is(wrong.exit.status, 'error');
  assert.match(wrong.exit.error!, /sha256 is [0-9a-f]{64}, not [0-9a-f]{64}; nothing written/);
  const short = await runFile(ex, { op: 'upload', path, sha256: sha('1234567890'), size: 10 }, Buffer.from('12345'));
  assert.match(short.exit.error!, /ended after 5 of 10 bytes/);
  const long = await runFile(ex, { op: 'upload', path, sha256: sha('12'), size: 2 }, Buffer.from('12345'));
  assert.match(long.exit.error!, /longer than the 2 bytes declared/);
  assert.not.ok(existsSync(path));
  assert.equal(leftovers(root), []);
});

test('every way out of the roots is refused with 1003 before the run is queued', () => {
  const up = (path: string): FileParams => ({ op: 'upload', path, sha256: sha('x'), size: 1 });
  refused(up(`${root}/../outside/x`), 1003, /"\.\." is not allowed/);
  refused(up('relative/x'), 1003, /absolute path/);
  refused(up(join(outside, 'x')), 1003, /outside agentd's file roots/);
  refused(up(join(root, 'escape', 'x')), 1003, /outside agentd's file roots/);
  refused(up(join(root, 'secret-link')), 1003, /resolves to .*secret\.txt/);
  refused({ op: 'download', path: join(root, 'secret-link') }, 1003, /outside/);
  refused({ op: 'download', path: join(root, 'escape', 'secret.txt') }, 1003, /outside/);
  refused({ op: 'download', path: '/etc/passwd' }, 1003, /outside/);
  refused({ op: 'copy', path: join(root, 'sub', 'hello.txt'), dest: join(outside, 'copy') }, 1003, /outside/);
  refused({ op: 'delete', path: join(root, 'escape') }, 1003, /outside/);
  refused({ op: 'delete', path: root }, 1003, /file root itself/);
  assert.is(readFileSync(join(outside, 'secret.txt'), 'utf8'), 'not yours');
  assert.equal(readdirSync(outside), ['secret.txt']);
  assert.is(ex.running, 0);
});

test('a destination that is a directory, a missing folder, a missing file', () => {
  refused({ op: 'upload', path: join(root, 'sub'), sha256: sha('x'), size: 1 }, 1001, /is a directory/);
  refused({ op: 'copy', path: join(root, 'sub', 'hello.txt'), dest: join(root, 'sub') }, 1001, /is a directory/);
  refused({ op: 'upload', path: join(root, 'nope', 'x'), sha256: sha('x'), size: 1 }, 1004, /no such folder/);
  refused({ op: 'download', path: join(root, 'nope.txt') }, 1004, /no such file/);
});

test('no space: an upload that would leave less than files.minFreeBytes free is refused, nothing written', async () => {
  const tight = newExecutor({ fileRoots: [root], minFreeBytes: Number.MAX_SAFE_INTEGER });
  const data = Buffer.from('x');
  const path = join(root, 'nospace.txt');
  const { exit } = await runFile(tight, { op: 'upload', path, sha256: sha(data), size: 1 }, data);
  assert.is(exit.status, 'error');
  assert.match(exit.error!, /not enough space for .*nospace\.txt.*nothing written/);
  assert.not.ok(existsSync(path));
  await tight.shutdown(0);
});

test('download: the file in order, in pieces, with its sha256; over the limit or a folder is refused', async () => {
  const big = Buffer.alloc(700_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 251;
  const path = join(root, 'big.bin');
  writeFileSync(path, big);
  const { exit, events } = await runFile(ex, { op: 'download', path, maxBytes: 1_000_000 });
  assert.is(exit.status, 'succeeded', exit.error ?? '');
  const pieces = events.filter((e): e is Extract<AgentExecEvent, { type: 'data' }> => e.type === 'data');
  assert.ok(pieces.length >= 3);
  assert.equal(pieces.map((p) => p.offset), pieces.map((_, i) => pieces.slice(0, i).reduce((n, p) => n + Buffer.from(p.data, 'base64').length, 0)));
  assert.ok(Buffer.concat(pieces.map((p) => Buffer.from(p.data, 'base64'))).equals(big));
  assert.equal(exit.result, { path, size: big.length, sha256: sha(big) });
  const over = await runFile(ex, { op: 'download', path, maxBytes: 1000 });
  assert.match(over.exit.error!, /is 700000 bytes, over the download limit of 1000/);
  assert.is(over.events.filter((e) => e.type === 'data').length, 0);
  assert.match((await runFile(ex, { op: 'download', path: join(root, 'sub') })).exit.error!, /not a regular file/);
});

test('copy keeps the mode; delete takes files, folders only with recursive, links themselves', async () => {
  const src = join(root, 'sub', 'hello.txt');
  const dest = join(root, 'copy.txt');
  const copy = await runFile(ex, { op: 'copy', path: src, dest });
  assert.is(copy.exit.status, 'succeeded', copy.exit.error ?? '');
  assert.is(readFileSync(dest, 'utf8'), readFileSync(src, 'utf8'));
  assert.is(statSync(dest).mode & 0o777, statSync(src).mode & 0o777);
  assert.is((await runFile(ex, { op: 'delete', path: dest })).exit.status, 'succeeded');
  assert.not.ok(existsSync(dest));
  const folder = join(root, 'tree');
  mkdirSync(join(folder, 'a'), { recursive: true });
  writeFileSync(join(folder, 'a', 'f'), 'x');
  assert.match((await runFile(ex, { op: 'delete', path: folder })).exit.error!, /is a directory: delete it with --recursive/);
  assert.ok(existsSync(folder));
  assert.is((await runFile(ex, { op: 'delete', path: folder, recursive: true })).exit.status, 'succeeded');
  assert.not.ok(existsSync(folder));
  symlinkSync(join(root, 'big.bin'), join(root, 'big-link'));
  assert.is((await runFile(ex, { op: 'delete', path: join(root, 'big-link') })).exit.status, 'succeeded');
  assert.ok(existsSync(join(root, 'big.bin')), 'deleting a link must not delete its target');
});

test('the concurrency limit holds for every kind: a file run waits behind a script in the one slot', async () => {
  const one = newExecutor({ fileRoots: [root], maxConcurrent: 1 });
  const gate = join(base, 'gate');
  const scriptEvents: AgentExecEvent[] = [];
  const script = one.submit({ runId: 'slot-script', kind: 'script', params: { script: `while [ ! -e ${gate} ]; do sleep 0.05; done` } }, (e) => { scriptEvents.push(e); });
  const fileEvents: AgentExecEvent[] = [];
  const file = one.submit(fileRun({ op: 'copy', path: join(root, 'sub', 'hello.txt'), dest: join(root, 'slot.txt') }), (e) => { fileEvents.push(e); });
  assert.equal(fileEvents[0], { type: 'queued', runId: `f-${seq}`, position: 1 });
  assert.not.ok(existsSync(join(root, 'slot.txt')), 'the copy waits for the slot');
  writeFileSync(gate, '');
  await Promise.all([script, file]);
  assert.is((fileEvents.at(-1) as Extract<AgentExecEvent, { type: 'exit' }>).status, 'succeeded');
  assert.ok(existsSync(join(root, 'slot.txt')));
  await one.shutdown(0);
});

test('bad params through the HTTP API: 400 1001 naming the field', async () => {
  const app = newApp(ex);
  for (const [params, field] of [
    [{ op: 'move', path: '/x' }, 'body.params.op'],
    [{ op: 'upload', path: join(root, 'm'), sha256: 'xyz', size: 1 }, 'body.params.sha256'],
    [{ op: 'upload', path: join(root, 'm'), sha256: sha('x'), size: 1, mode: '999' }, 'body.params.mode'],
    [{ op: 'upload', path: join(root, 'm'), sha256: sha('x'), size: 1, owner: 'root; rm -rf /' }, 'body.params.owner'],
  ] as const) {
    const payload = JSON.stringify({ runId: `bad-${++seq}`, kind: 'file', params });
    const res = await inject(app, { method: 'POST', url: AGENT_API.exec, payload, headers: signedHeaders('POST', AGENT_API.exec, payload), remoteAddress: '127.0.0.1' });
    assert.is(res.statusCode, 400, res.body);
    assert.equal(res.json().data, { field });
  }
  const payload = JSON.stringify({ runId: `esc-${++seq}`, kind: 'file', params: { op: 'download', path: join(root, 'escape', 'secret.txt') } });
  const res = await inject(app, { method: 'POST', url: AGENT_API.exec, payload, headers: signedHeaders('POST', AGENT_API.exec, payload), remoteAddress: '127.0.0.1' });
  assert.is(res.statusCode, 403);
  assert.is(res.json().code, 1003);
  await app.close();
});

test('upload over a real socket: content PUT signed with its sha256; a different signed hash or altered bytes are refused', async () => {
  const app = newApp(ex);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server!.address() as { port: number }).port}`;
  const start = async (path: string, data: Buffer) => {
    const body = JSON.stringify(fileRun({ op: 'upload', path, sha256: sha(data), size: data.length }));
    const res = await request(url + AGENT_API.exec, { method: 'POST', body, headers: signedHeaders('POST', AGENT_API.exec, body) });
    assert.is(res.statusCode, 200);
    return { runId: (JSON.parse(body) as { runId: string }).runId, events: res.body.text() };
  };
  const put = (runId: string, bytes: Buffer, signedHash: string) => request(url + AGENT_API.content(runId), {
    method: 'PUT', body: bytes,
    headers: { 'content-type': 'application/octet-stream', ...signRequest({ method: 'PUT', path: AGENT_API.content(runId), bodyHash: signedHash, keyId: KEY_ID, secret: SECRET }) },
  });
  try {
    const data = Buffer.from('over the wire\n');
    const ok = await start(join(root, 'wire.txt'), data);
    const res = await put(ok.runId, data, sha(data));
    assert.is(res.statusCode, 200, await res.body.text());
    assert.match(await ok.events, /"status":"succeeded"/);
    assert.is(readFileSync(join(root, 'wire.txt'), 'utf8'), 'over the wire\n');

    // An empty file is content too: a PUT of no bytes still reaches the run.
    const empty = await start(join(root, 'empty.txt'), Buffer.alloc(0));
    const emptyPut = await put(empty.runId, Buffer.alloc(0), sha(Buffer.alloc(0)));
    assert.is(emptyPut.statusCode, 200, await emptyPut.body.text());
    assert.match(await empty.events, /"status":"succeeded"/);
    assert.is(readFileSync(join(root, 'empty.txt'), 'utf8'), '');

    const other = await start(join(root, 'wire2.txt'), data);
    const mismatch = await put(other.runId, Buffer.from('something else'), sha('something else'));
    assert.is(mismatch.statusCode, 400);
    assert.match(await mismatch.body.text(), /is not the [0-9a-f]{64} run .* was dispatched with/);
    // Bytes altered on the way (same length, the signed hash of the real content): written nowhere.
    const altered = Buffer.from(data);
    altered[0] ^= 1;
    await (await put(other.runId, altered, sha(data))).body.text();
    assert.match(await other.events, /"status":"error".*sha256 is/);
    assert.not.ok(existsSync(join(root, 'wire2.txt')));

    const unsigned = await request(url + AGENT_API.content('nobody'), { method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream' } });
    assert.is(unsigned.statusCode, 401);
    await unsigned.body.text();
  } finally {
    app.server?.closeAllConnections();
    await app.close();
  }
});

test.run();
