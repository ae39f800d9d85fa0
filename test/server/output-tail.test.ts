// The per-run output buffer: keeps the tail within the byte limit, never splits a UTF-8 character.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OutputTail } from '../../server/modules/tasks/output-tail.js';

test('keeps everything under the limit, in order, with streams', () => {
  const t = new OutputTail(100);
  t.append('stdout', 'a\n');
  t.append('stderr', 'b\n');
  t.append('stdout', '');
  assert.is(t.text(), 'a\nb\n');
  assert.equal(t.list().map((c) => c.stream), ['stdout', 'stderr']);
  assert.not.ok(t.truncated);
});

test('over the limit: drops the oldest bytes, keeps the tail, marks truncated', () => {
  const t = new OutputTail(10);
  t.append('stdout', '0123456789');
  t.append('stdout', 'abcde');
  assert.is(t.text(), '56789abcde');
  assert.is(t.bytes, 10);
  assert.ok(t.truncated);
  t.append('stdout', 'x'.repeat(25));
  assert.is(t.text(), 'x'.repeat(10));
});

test('never starts in the middle of a multi-byte character', () => {
  const t = new OutputTail(5);
  t.append('stdout', 'ééé'); // 6 bytes
  assert.is(t.text(), 'éé');
  assert.ok(Buffer.byteLength(t.text()) <= 5);
  assert.not.ok(t.text().includes('\ufffd'));
});

test('clone is independent', () => {
  const t = new OutputTail(8, 'abc');
  const c = t.clone();
  c.append('stdout', 'defghij');
  assert.is(t.text(), 'abc');
  assert.is(c.text(), 'cdefghij');
  assert.not.ok(t.truncated);
  assert.ok(c.truncated);
});

test('starts from stored output and its truncated flag', () => {
  const t = new OutputTail(8, 'stored', true);
  assert.is(t.text(), 'stored');
  assert.ok(t.truncated);
});

test.run();
