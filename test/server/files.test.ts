// The manager's side of files, on a real database: content stored by its SHA-256 (refused when it
// does not hash to its name or is too large), each kind's permission, an upload's chunks sent
// down a host stream within the window and only as the host acknowledges them, a host that drops
// mid-upload failing its run, and a download kept only when its hash matches.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { existsSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import type { ManagerMessage } from '../../proto/hostlink.js';
import type { TaskDetail } from '../../proto/rest/tasks.js';
import { DB_KINDS, makeHarness, until, type Harness } from './harness.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const CHUNK = 64 * 1024;
const WINDOW = 4 * CHUNK;

async function put(h: Harness, hash: string, body: Buffer, token = h.token) {
  const res = await h.app.inject({
    method: 'PUT', url: `/api/v1/files/${hash}`, payload: body,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
  });
  return { status: res.statusCode, body: res.json() as { code: number; message: string; data: { sha256: string; size: number; created: boolean } } };
}

const chunksOf = (sent: ManagerMessage[], runId: string) => sent.flatMap((m) => (m.fileChunk?.runId === runId ? [m.fileChunk] : []));

for (const kind of DB_KINDS) {
  const t = suite<{ h: Harness }>(`files on ${kind}`, { h: undefined as unknown as Harness });
  t.before.each(async (ctx) => {
    ctx.h = await makeHarness(kind, { config: { 'files.chunkBytes': CHUNK, 'files.windowBytes': WINDOW, 'files.maxUploadBytes': 2 * 1024 * 1024, 'files.maxDownloadBytes': 1000 } });
  });
  t.after.each(async ({ h }) => { await h.close(); });

  t('content is stored by its sha256 once; a wrong hash, a bad name or too large a file keeps nothing', async ({ h }) => {
    const data = Buffer.from('release 1.2.3\n');
    const first = await put(h, sha(data), data);
    assert.is(first.status, 201, first.body.message);
    assert.equal(first.body.data, { sha256: sha(data), size: data.length, created: true });
    const again = await put(h, sha(data), data);
    assert.is(again.status, 200);
    assert.is(again.body.data.created, false);
    assert.is((await h.api('GET', `/files/${sha(data)}`)).status, 200);
    assert.is((await h.api('GET', `/files/${sha('nope')}`)).body.code, 1004);

    const wrong = await put(h, sha('other'), data);
    assert.is(wrong.status, 400);
    assert.match(wrong.body.message, /content sha256 is [0-9a-f]{64}, not [0-9a-f]{64} as named/);
    assert.not.ok(existsSync(join(h.config.dataDir, 'files', sha('other').slice(0, 2), sha('other'))));
    assert.is((await put(h, 'not-a-hash', data)).status, 400);
    const big = Buffer.alloc(2 * 1024 * 1024 + 1);
    const tooBig = await put(h, sha(big), big);
    assert.ok(tooBig.status === 400 || tooBig.status === 413, String(tooBig.status));
    assert.not.ok(existsSync(join(h.config.dataDir, 'files', sha(big).slice(0, 2), sha(big))));
  });

  t('each kind needs its own permission; an upload needs its content on the manager first', async ({ h }) => {
    const id = await h.enroll('perm-1');
    await h.connect(id, 'perm-1');
    const viewer = await h.user('vera', 'viewer');
    const refusedPut = await put(h, sha('x'), Buffer.from('x'), viewer);
    assert.is(refusedPut.status, 403);
    const as = (token: string, body: Record<string, unknown>) => h.api<TaskDetail>('POST', '/tasks', { selector: { all: true }, ...body }, token);
    const up = await as(viewer, { kind: 'file', file: { op: 'upload', path: '/srv/x', sha256: sha('x') } });
    assert.is(up.status, 403);
    assert.match(up.body.message, /permission files:write required/);
    assert.match((await as(viewer, { kind: 'file', file: { op: 'download', path: '/srv/x' } })).body.message, /permission files:read required/);
    assert.match((await as(viewer, { kind: 'service', service: { action: 'restart', name: 'nginx' } })).body.message, /permission services:control required/);
    assert.is((await as(viewer, { kind: 'service', service: { action: 'status', name: 'nginx' } })).status, 201);
    const missing = await as(h.token, { kind: 'file', file: { op: 'upload', path: '/srv/x', sha256: sha('never stored') } });
    assert.is(missing.status, 400);
    assert.match(missing.body.message, /no file [0-9a-f]{64} on the manager: store it first/);
  });

  t('an upload goes down the stream in chunks, never more than the window ahead of the acknowledgements', async ({ h }) => {
    const id = await h.enroll('up-1');
    const s = await h.connect(id, 'up-1');
    const data = Buffer.alloc(10 * CHUNK + 123);
    for (let i = 0; i < data.length; i++) data[i] = i % 253;
    assert.is((await put(h, sha(data), data)).status, 201);
    const task = (await h.api<TaskDetail>('POST', '/tasks', { selector: { all: true }, kind: 'file', file: { op: 'upload', path: '/srv/app.bin', sha256: sha(data), mode: '0600' } })).body.data;
    const runId = task.runs[0].id;
    assert.equal(s.dispatches[0].file, { op: 'upload', path: '/srv/app.bin', sha256: sha(data), mode: '0600', size: data.length });
    await until('the first window', () => chunksOf(s.sent, runId).length === WINDOW / CHUNK);
    await new Promise((r) => setTimeout(r, 50));
    assert.is(chunksOf(s.sent, runId).length, WINDOW / CHUNK, 'nothing beyond the window before an ack');
    let acked = 0;
    while (acked < data.length) {
      const chunks = chunksOf(s.sent, runId);
      const sentBytes = chunks.reduce((n, c) => n + c.data!.length, 0);
      assert.ok(sentBytes - acked <= WINDOW, `in flight ${sentBytes - acked}`);
      const next = chunks.find((c) => Number(c.offset) === acked)!;
      acked += next.data!.length;
      await h.services.hostLink.onFileAck(id, { runId, offset: acked, error: '' });
      if (acked < data.length) await until(`chunk after ${acked}`, () => chunksOf(s.sent, runId).some((c) => Number(c.offset) === acked));
    }
    const chunks = chunksOf(s.sent, runId);
    assert.ok(Buffer.concat(chunks.map((c) => Buffer.from(c.data!))).equals(data));
    assert.equal(chunks.map((c) => Boolean(c.eof)), chunks.map((_, i) => i === chunks.length - 1));
  });

  t('a host that drops mid-upload fails that run at once, saying so', async ({ h }) => {
    const id = await h.enroll('drop-1');
    const s = await h.connect(id, 'drop-1');
    const data = Buffer.alloc(10 * CHUNK);
    assert.is((await put(h, sha(data), data)).status, 201);
    const task = (await h.api<TaskDetail>('POST', '/tasks', { selector: { all: true }, kind: 'file', file: { op: 'upload', path: '/srv/x', sha256: sha(data) } })).body.data;
    await until('chunks', () => chunksOf(s.sent, task.runs[0].id).length > 0);
    s.open = false;
    await h.services.hostLink.onDisconnected(s);
    await h.services.tasks.whenIdle(task.id);
    const after = (await h.api<TaskDetail>('GET', `/tasks/${task.id}`)).body.data;
    assert.is(after.runs[0].status, 'error');
    assert.match(after.runs[0].error!, /the host disconnected mid-upload \(0 of 655360 bytes passed on\)/);
  });

  t('a download is kept when the host\'s hash matches, refused when it does not; its file is served per run', async ({ h }) => {
    const id = await h.enroll('down-1');
    const s = await h.connect(id, 'down-1');
    const create = async () => (await h.api<TaskDetail>('POST', '/tasks', { selector: { all: true }, kind: 'file', file: { op: 'download', path: '/var/log/app.log' } })).body.data;
    const good = await create();
    assert.equal(s.dispatches.at(-1)!.file, { op: 'download', path: '/var/log/app.log', maxBytes: 1000 });
    const runId = good.runs[0].id;
    const body = Buffer.from('line 1\nline 2\n');
    const hl = h.services.hostLink;
    await hl.onTaskEvent(id, { runId, seq: 0, kind: 'started', started: { atMs: Date.now(), pid: 1 } });
    await hl.onTaskEvent(id, { runId, seq: 0, kind: 'fileData', fileData: { offset: 0, data: body.subarray(0, 5) } });
    await hl.onTaskEvent(id, { runId, seq: 0, kind: 'fileData', fileData: { offset: 5, data: body.subarray(5) } });
    await hl.onTaskEvent(id, { runId, seq: 0, kind: 'exited', exited: { atMs: Date.now(), exitCode: 0, signal: '', durationMs: 3, status: 'succeeded', error: '', errorCode: 0, resultJson: JSON.stringify({ path: '/var/log/app.log', size: body.length, sha256: sha(body) }) } });
    await h.services.tasks.whenIdle(good.id);
    const done = (await h.api<TaskDetail>('GET', `/tasks/${good.id}`)).body.data;
    assert.is(done.runs[0].status, 'succeeded');
    assert.equal(done.runs[0].result, { path: '/var/log/app.log', size: body.length, sha256: sha(body) });
    const file = await h.app.inject({ method: 'GET', url: `/api/v1/tasks/${good.id}/runs/down-1/file`, headers: { authorization: `Bearer ${h.token}` } });
    assert.is(file.statusCode, 200);
    assert.is(file.headers['x-ops-sha256'], sha(body));
    assert.is(file.body, body.toString());
    const viewer = await h.user('vic', 'viewer');
    assert.is((await h.app.inject({ method: 'GET', url: `/api/v1/tasks/${good.id}/runs/down-1/file`, headers: { authorization: `Bearer ${viewer}` } })).statusCode, 403);

    const bad = await create();
    const badRun = bad.runs[0].id;
    await hl.onTaskEvent(id, { runId: badRun, seq: 0, kind: 'fileData', fileData: { offset: 0, data: Buffer.from('tampered') } });
    await hl.onTaskEvent(id, { runId: badRun, seq: 0, kind: 'exited', exited: { atMs: Date.now(), exitCode: 0, signal: '', durationMs: 3, status: 'succeeded', error: '', errorCode: 0, resultJson: JSON.stringify({ size: 8, sha256: sha('original') }) } });
    await h.services.tasks.whenIdle(bad.id);
    const failed = (await h.api<TaskDetail>('GET', `/tasks/${bad.id}`)).body.data.runs[0];
    assert.is(failed.status, 'error');
    assert.match(failed.error!, /download damaged on the way/);
    assert.is((await h.api('GET', `/tasks/${bad.id}/runs/${badRun}/file`)).body.code, 1004);
  });

  t('stored files unused for files.keepDays are deleted, unless a running upload still sends them', async ({ h }) => {
    const id = await h.enroll('keep-1');
    await h.connect(id, 'keep-1');
    const [old, sending, fresh] = ['old', 'sending', 'fresh'].map((w) => Buffer.from(`${w}\n`));
    for (const b of [old, sending, fresh]) assert.is((await put(h, sha(b), b)).status, 201);
    const task = (await h.api<TaskDetail>('POST', '/tasks', { selector: { all: true }, kind: 'file', file: { op: 'upload', path: '/srv/s', sha256: sha(sending) } })).body.data;
    assert.is(task.status, 'running');
    const tenDaysAgo = new Date(Date.now() - 10 * 86_400_000);
    for (const b of [old, sending]) utimesSync(join(h.config.dataDir, 'files', sha(b).slice(0, 2), sha(b)), tenDaysAgo, tenDaysAgo);
    assert.is(h.services.tasks.sweepFiles(), 1);
    assert.is((await h.api('GET', `/files/${sha(old)}`)).body.code, 1004);
    assert.is((await h.api('GET', `/files/${sha(sending)}`)).status, 200);
    assert.is((await h.api('GET', `/files/${sha(fresh)}`)).status, 200);
  });

  t.run();
}
