// The event spool on its own, on real files: what a restart reads back (a torn last line
// included), when a run is forgotten, and what a re-send yields.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../lib/log.js';
import type { TaskEvent } from '../../proto/hostlink.js';
import { EventSpool } from '../../hostd/event-spool.js';

const dir = mkdtempSync(join(tmpdir(), 'ops-spool-'));
const quiet = createLogger({ component: 'spool-test', level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const open = async (file: string) => {
  const spool = new EventSpool({ file, maxBytes: 1 << 20, log: quiet });
  await spool.start();
  return spool;
};
const out = (runId: string, seq: number, data = `line ${seq}\n`): TaskEvent => ({ runId, seq, output: { stream: 'stdout', data, atMs: 1 } });
const exit = (runId: string, seq: number): TaskEvent => ({ runId, seq, exited: { atMs: 2, exitCode: 0, signal: '', durationMs: 1, status: 'succeeded', error: '', errorCode: 0, resultJson: '' } });

async function resent(spool: EventSpool): Promise<string[]> {
  const got: string[] = [];
  await spool.resend((e) => { got.push(`${e.runId}#${e.seq}`); }, () => true);
  return got;
}

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('a restart reads back runs in flight with their last seq; a torn last line is skipped', async () => {
  const file = join(dir, 'restart.ndjson');
  const a = await open(file);
  a.dispatched('r1');
  a.append(out('r1', 1));
  a.append(out('r1', 2));
  a.dispatched('r2');
  a.append(out('r2', 1));
  a.append(exit('r2', 2));
  await a.stop();
  appendFileSync(file, '{"t":"e","ev":{"runId":"r1","seq":3,"outp'); // killed mid-write
  const b = await open(file);
  assert.equal(b.inFlight(), [{ runId: 'r1', lastSeq: 2 }]);
  assert.equal(b.knownRuns().sort(), ['r1', 'r2']);
  assert.ok(b.hasExit('r2') && !b.hasExit('r1'));
  assert.equal(await resent(b), ['r1#1', 'r1#2', 'r2#1', 'r2#2']);
  assert.ok(readFileSync(file, 'utf8').endsWith('\n'), 'rewritten clean at start');
  await b.stop();
});

test('acks: covered events are not re-sent; an exit acked by its seq forgets the run, also across a restart', async () => {
  const file = join(dir, 'acks.ndjson');
  const a = await open(file);
  a.dispatched('r1');
  for (let seq = 1; seq <= 3; seq++) a.append(out('r1', seq));
  a.append(exit('r1', 4));
  a.ack([{ runId: 'r1', seq: 2 }]);
  assert.equal(await resent(a), ['r1#3', 'r1#4']);
  a.ack([{ runId: 'r1', seq: 4 }]);
  assert.is(a.knows('r1'), false);
  assert.equal(await resent(a), []);
  await a.stop();
  const b = await open(file);
  assert.equal(b.knownRuns(), []);
  await b.stop();
});

test('an exit hostd made (seq 0) ends the run only on an ack after it was sent that covers the run\'s seqs', async () => {
  const a = await open(join(dir, 'own-exit.ndjson'));
  a.dispatched('r1');
  a.append(out('r1', 1));
  const own = { ...exit('r1', 0), exited: { ...exit('r1', 0).exited!, status: 'lost' } };
  a.append(own);
  a.ack([{ runId: 'r1', seq: 1 }]);
  assert.ok(a.knows('r1'), 'not sent yet: the ack cannot cover it');
  a.sent(own);
  a.ack([{ runId: 'r1', seq: 0 }]);
  assert.ok(a.knows('r1'), 'an ack short of the run\'s seqs may predate the exit');
  a.ack([{ runId: 'r1', seq: 1 }]);
  assert.is(a.knows('r1'), false);
  await a.stop();
});

test('a re-send includes events appended while it runs, in order', async () => {
  const a = await open(join(dir, 'during.ndjson'));
  a.append(out('r1', 1));
  const got: number[] = [];
  await a.resend((e) => {
    got.push(Number(e.seq));
    if (e.seq === 1) a.append(out('r1', 2));
  }, () => true);
  assert.equal(got, [1, 2]);
  await a.stop();
});

test.run();
