// Direct mode's file content paths, against a small local HTTP server standing in for agentd (the
// file kind is agentd's own work): an upload is PUT to the run's content URL after agentd accepted
// the run, streamed from disk and signed with its sha256; a download's `data` pieces are written
// to <dir>/<host>/<name> through a temporary file and kept only when they match the exit's result.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { AgentExecEvent, AgentExecRequest, FileParams } from '../../proto/agent-api.js';
import type { CreateTaskRequest, TaskStreamEvent } from '../../proto/rest/tasks.js';
import { NonceCache, verifyRequest } from '../../proto/signing.js';
import { DirectRunner } from '../../cli/lib/direct/runner.js';
import type { InventoryHost } from '../../cli/lib/direct/inventory.js';
import { UsageError } from '../../cli/lib/errors.js';

const SECRET = randomBytes(32).toString('hex');
const scratch = mkdtempSync(join(tmpdir(), 'opsctl-direct-files-'));
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface FakeAgent {
  server: Server;
  url: string;
  /** What each PUT of content carried: its signed hash, content type and bytes. */
  uploads: { runId: string; signedHash: string; contentType: string; bytes: Buffer }[];
  execs: AgentExecRequest[];
  /** Answer to a PUT of content: 200, or a refusal. */
  refuseContent?: boolean;
  /** What a download sends: its bytes, and the sha256 it claims in the exit's result. */
  download?: { bytes: Buffer; claimSha256?: string };
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** agentd's part, as far as content goes: signed requests, an NDJSON stream per run, PUT content, cancel. */
async function fakeAgent(): Promise<FakeAgent> {
  const nonces = new NonceCache();
  const waiting = new Map<string, { res: ServerResponse; params: FileParams }>();
  const fake: FakeAgent = { server: undefined as unknown as Server, url: '', uploads: [], execs: [] };
  const event = (res: ServerResponse, e: AgentExecEvent) => res.write(JSON.stringify(e) + '\n');
  const exit = (res: ServerResponse, runId: string, status: 'succeeded' | 'cancelled', result?: Record<string, unknown>) => {
    event(res, { type: 'exit', runId, atMs: Date.now(), exitCode: status === 'succeeded' ? 0 : -1, signal: null, durationMs: 5, status, error: status === 'cancelled' ? 'cancelled' : null, ...(result ? { result } : {}) });
    res.end();
  };
  fake.server = createServer(async (req, res) => {
    const streamed = req.method === 'PUT';
    const body = streamed ? Buffer.alloc(0) : await readAll(req);
    const auth = verifyRequest({ method: req.method!, path: req.url!, headers: req.headers, body, streamedBody: streamed, lookupSecret: (id) => (id === 'ops' ? SECRET : undefined), nonces });
    if (!auth.ok) return res.writeHead(401).end(JSON.stringify({ code: 1002, message: auth.reason }));
    const cancel = /^\/v1\/exec\/([^/]+)\/cancel$/.exec(req.url!);
    if (cancel) {
      const run = waiting.get(cancel[1]);
      if (run) exit(run.res, cancel[1], 'cancelled');
      return res.writeHead(200).end(JSON.stringify({ code: 0, data: { cancelled: Boolean(run) } }));
    }
    const content = /^\/v1\/exec\/([^/]+)\/content$/.exec(req.url!);
    if (content) {
      const bytes = await readAll(req);
      const runId = content[1];
      fake.uploads.push({ runId, signedHash: auth.claimedBodyHash, contentType: String(req.headers['content-type']), bytes });
      if (fake.refuseContent) return res.writeHead(400).end(JSON.stringify({ code: 1001, message: 'content sha256 is not the one the run was dispatched with' }));
      res.writeHead(200).end(JSON.stringify({ code: 0, data: { received: true } }));
      const run = waiting.get(runId)!;
      waiting.delete(runId);
      const ok = sha256(bytes) === auth.claimedBodyHash && bytes.length === run.params.size;
      return ok ? exit(run.res, runId, 'succeeded', { sha256: sha256(bytes), size: bytes.length }) : exit(run.res, runId, 'cancelled');
    }
    const run = JSON.parse(body.toString()) as AgentExecRequest;
    fake.execs.push(run);
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    event(res, { type: 'started', runId: run.runId, pid: 1, atMs: Date.now() });
    const params = run.params as FileParams;
    if (params.op === 'upload') return waiting.set(run.runId, { res, params });
    const bytes = fake.download!.bytes;
    for (let offset = 0; offset < bytes.length; offset += 4096) event(res, { type: 'data', runId: run.runId, offset, data: bytes.subarray(offset, offset + 4096).toString('base64') });
    exit(res, run.runId, 'succeeded', { sha256: fake.download!.claimSha256 ?? sha256(bytes), size: bytes.length });
  });
  await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
  return fake;
}

let fake: FakeAgent;
const host = (name: string): InventoryHost => ({ name, url: fake.url, keyId: 'ops', secret: SECRET, keyFile: '/dev/null', labels: {}, groups: [] });
const runner = () => new DirectRunner({ file: 'hosts.yaml', hosts: [host('web-1'), host('web-2')] });

async function runAll(body: CreateTaskRequest, files: { uploadPath?: string; downloadDir?: string }): Promise<TaskStreamEvent[]> {
  const started = await runner().start(body, files);
  const events: TaskStreamEvent[] = [];
  assert.is(await started.follow((e) => events.push(e), 20_000), 'done');
  return events;
}
const exits = (events: TaskStreamEvent[]) => events.flatMap((e) => (e.type === 'exit' ? [e] : [])).sort((a, b) => a.node.localeCompare(b.node));

test.before(async () => { fake = await fakeAgent(); });
test.after(() => {
  fake.server.close();
  rmSync(scratch, { recursive: true, force: true });
});

test('an upload: exec first, then the file PUT to each run\'s content URL, signed with its sha256', async () => {
  const bytes = randomBytes(300_000);
  const file = join(scratch, 'app.tar');
  writeFileSync(file, bytes);
  const events = await runAll({ selector: { all: true }, kind: 'file', file: { op: 'upload', path: '/srv/app.tar', mode: '0640' } }, { uploadPath: file });
  assert.equal(exits(events).map((e) => [e.node, e.status, e.result]), [
    ['web-1', 'succeeded', { sha256: sha256(bytes), size: bytes.length }],
    ['web-2', 'succeeded', { sha256: sha256(bytes), size: bytes.length }],
  ]);
  assert.equal(fake.execs.map((x) => x.params), [0, 1].map(() => ({ op: 'upload', path: '/srv/app.tar', mode: '0640', sha256: sha256(bytes), size: bytes.length })));
  assert.equal(fake.uploads.map((u) => [u.signedHash, u.contentType, u.bytes.equals(bytes)]), [0, 1].map(() => [sha256(bytes), 'application/octet-stream', true]));
  assert.equal(new Set(fake.uploads.map((u) => u.runId)), new Set(fake.execs.map((x) => x.runId)));
  assert.is(events.at(-1)!.type, 'done');
});

test('an upload agentd refuses the content of ends that run as error, saying why', async () => {
  fake.refuseContent = true;
  try {
    const file = join(scratch, 'small.txt');
    writeFileSync(file, 'hello\n');
    const events = await runAll({ selector: { names: ['web-1'] }, kind: 'file', file: { op: 'upload', path: '/tmp/small.txt' } }, { uploadPath: file });
    const [exit] = exits(events);
    assert.is(exit.status, 'error');
    assert.is(exit.error, 'sending the content to agentd: agentd refused it: content sha256 is not the one the run was dispatched with (HTTP 400, code 1001)');
  } finally {
    fake.refuseContent = false;
  }
});

test('a download: each host\'s pieces land in <dir>/<host>/<name>, checked against the exit\'s sha256 and size', async () => {
  const bytes = randomBytes(50_000);
  fake.download = { bytes };
  const dir = join(scratch, 'got');
  const events = await runAll({ selector: { all: true }, kind: 'file', file: { op: 'download', path: '/var/log/syslog' } }, { downloadDir: dir });
  assert.equal(exits(events).map((e) => [e.node, e.status]), [['web-1', 'succeeded'], ['web-2', 'succeeded']]);
  for (const node of ['web-1', 'web-2']) {
    assert.ok(readFileSync(join(dir, node, 'syslog')).equals(bytes), node);
    assert.equal(readdirSync(join(dir, node)), ['syslog'], 'no temporary file left');
  }
  assert.not.ok(events.some((e) => e.type === 'output'), 'data pieces are not output');
});

test('a download whose bytes do not match what the host reported is an error and leaves no file', async () => {
  const bytes = randomBytes(10_000);
  fake.download = { bytes, claimSha256: '0'.repeat(64) };
  const dir = join(scratch, 'bad');
  const events = await runAll({ selector: { names: ['web-1'] }, kind: 'file', file: { op: 'download', path: '/etc/hosts' } }, { downloadDir: dir });
  const [exit] = exits(events);
  assert.is(exit.status, 'error');
  assert.is(exit.error, `the downloaded copy (10000 bytes, sha256 ${sha256(bytes)}) does not match what the host read (10000 bytes, sha256 ${'0'.repeat(64)})`);
  assert.equal(readdirSync(join(dir, 'web-1')), []);
});

test('direct mode needs the local side of file content: refused before anything is sent', async () => {
  const before = fake.execs.length;
  const refused = async (body: CreateTaskRequest, files: { uploadPath?: string; downloadDir?: string }, message: string) => {
    const err = await runner().start(body, files).then(() => undefined, (e: Error) => e);
    assert.ok(err instanceof UsageError, String(err));
    assert.is(err!.message, message);
  };
  await refused({ selector: { all: true }, kind: 'file', file: { op: 'upload', path: '/x' } }, {}, 'an upload in direct mode needs the local file to send');
  await refused({ selector: { all: true }, kind: 'file', file: { op: 'download', path: '/x' } }, {}, 'a download in direct mode needs a local folder to put the copies in');
  await refused({ selector: { all: true }, kind: 'file', file: { op: 'upload', path: '/x' } }, { uploadPath: join(scratch, 'missing') }, `reading ${join(scratch, 'missing')}: no such file`);
  const file = join(scratch, 'other.txt');
  writeFileSync(file, 'other');
  await refused({ selector: { all: true }, kind: 'file', file: { op: 'upload', path: '/x', sha256: 'a'.repeat(64) } }, { uploadPath: file }, `${file} has sha256 ${sha256(Buffer.from('other'))}, not the ${'a'.repeat(64)} asked for`);
  await refused({ selector: { all: true }, kind: 'service' }, {}, 'body/service is required for kind service');
  assert.is(fake.execs.length, before);
  assert.not.ok(existsSync(join(scratch, 'missing')));
});

test.run();
