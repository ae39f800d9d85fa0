// hostd's gathering of task events (hostd/event-batch.ts): what it writes on a stream that accepts
// task_events, on one that does not (an older manager), and what happens to events pending when
// the stream goes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventBatcher } from '../../hostd/event-batch.js';
import type { HostMessage, TaskEvent } from '../../proto/hostlink.js';
import { waitUntil } from './helpers.js';

const ev = (seq: number): TaskEvent => ({ runId: 'r1', seq, output: { stream: 'stdout', data: `line ${seq}\n`, atMs: seq } });
const kinds = (messages: HostMessage[]) => messages.map((m) => (m.taskEvents ? `batch:${m.taskEvents.events!.map((e) => e.seq).join(',')}` : `one:${m.taskEvent!.seq}`));

function stream() {
  const messages: HostMessage[] = [];
  return { messages, write: (m: HostMessage) => { messages.push(m); } };
}

test('a stream that accepts task_events: events gathered go as one message, in order; one alone goes as a single event', () => {
  const sent: number[] = [];
  const b = new EventBatcher((e) => sent.push(Number(e.seq)), 60_000);
  const s = stream();
  b.use(s, true);
  for (const seq of [1, 2, 3]) assert.ok(b.add(ev(seq)));
  assert.equal(s.messages, [], 'nothing written before the batch is due');
  assert.equal(sent, []);
  b.flush();
  b.add(ev(4));
  b.flush();
  b.flush();
  assert.equal(kinds(s.messages), ['batch:1,2,3', 'one:4']);
  assert.equal(sent, [1, 2, 3, 4], 'told of each event once it is written');
});

test('a batch is written by itself once due, and at once when it is full', async () => {
  const b = new EventBatcher(undefined, 5);
  const s = stream();
  b.use(s, true);
  b.add(ev(1));
  b.add(ev(2));
  await waitUntil('the batch to be written', () => (s.messages.length === 1 ? true : undefined), 5000);
  assert.equal(kinds(s.messages), ['batch:1,2']);
  const full = new EventBatcher(undefined, 60_000);
  const t = stream();
  full.use(t, true);
  for (let seq = 1; seq <= 64; seq++) full.add(ev(seq));
  assert.is(t.messages.length, 1);
  assert.is(t.messages[0].taskEvents!.events!.length, 64);
  full.clear();
});

test('an exit is written at once with what its run sent before it: nobody waits the batch delay for a result', () => {
  const b = new EventBatcher(undefined, 60_000);
  const s = stream();
  b.use(s, true);
  b.add({ runId: 'r1', seq: 1, started: { pid: 7 } });
  b.add(ev(2));
  assert.equal(s.messages, [], 'started and output wait for the rest of the run');
  b.add({ runId: 'r1', seq: 3, exited: { exitCode: 0 } });
  assert.equal(kinds(s.messages), ['batch:1,2,3']);
  b.clear();
});

test('an older manager (no accepts_task_events): every event is written at once on its own', () => {
  const sent: number[] = [];
  const b = new EventBatcher((e) => sent.push(Number(e.seq)), 60_000);
  const s = stream();
  b.use(s, false);
  for (const seq of [1, 2, 3]) b.add(ev(seq));
  assert.equal(kinds(s.messages), ['one:1', 'one:2', 'one:3']);
  assert.equal(sent, [1, 2, 3]);
});

test('the stream goes: pending events are dropped, not written on the next stream; no stream takes nothing', () => {
  const sent: number[] = [];
  const b = new EventBatcher((e) => sent.push(Number(e.seq)), 60_000);
  assert.not.ok(b.add(ev(1)), 'no stream yet');
  const first = stream();
  b.use(first, true);
  b.add(ev(2));
  b.add(ev(3));
  b.clear();
  b.flush();
  assert.not.ok(b.add(ev(4)));
  const second = stream();
  b.use(second, true);
  b.add(ev(5));
  b.flush();
  assert.equal(first.messages, []);
  assert.equal(kinds(second.messages), ['one:5']);
  assert.equal(sent, [5], 'only what was written counts as sent (the spool re-sends the rest)');
});

test.run();
