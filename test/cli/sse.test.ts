// The SSE reader behind `opsctl tasks run`, fed by a real HTTP server that cuts its stream at
// awkward places (inside "\r\n", inside a multi-byte character, between fields).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readSse, type SseMessage } from '../../cli/lib/sse.js';

/** Serves `pieces` as one text/event-stream response, each piece written (and flushed) separately. */
async function serve(pieces: (string | Buffer)[]): Promise<{ url: string; server: Server }> {
  const server = createServer(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const p of pieces) {
      res.write(p);
      await new Promise((r) => setTimeout(r, 5));
    }
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

async function readAll(pieces: (string | Buffer)[]): Promise<SseMessage[]> {
  const { url, server } = await serve(pieces);
  try {
    const res = await fetch(url);
    const out: SseMessage[] = [];
    for await (const msg of readSse(res.body!)) out.push(msg);
    return out;
  } finally {
    server.close();
  }
}

test('events, multi-line data, comments, CRLF split across reads and UTF-8 split across reads', async () => {
  const snow = Buffer.from('data: ☃\n\n');
  const msgs = await readAll([
    ': keep-alive\n\n',
    'event: output\r', '\ndata: {"a":1}\r\n\r\n',
    'id: 7\nevent: exit\ndata: line1\ndata:line2\n\n',
    snow.subarray(0, 7), snow.subarray(7),
    'data: unterminated',
  ]);
  assert.equal(msgs, [
    { event: 'output', data: '{"a":1}', id: undefined },
    { event: 'exit', data: 'line1\nline2', id: '7' },
    { event: 'message', data: '☃', id: undefined },
  ]);
});

test('a block with no data line dispatches nothing; an empty data line dispatches ""', async () => {
  const msgs = await readAll(['event: ping\n\n', 'id: 3\n\n', 'event: done\ndata:\n\n']);
  assert.equal(msgs, [{ event: 'done', data: '', id: undefined }]);
});

test.run();
