// Time-ordered ids: UUID version 7 in form, ordered by time (and within a millisecond), unique.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { timeOrderedId } from '../../lib/time-ordered-id.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('a version 7 UUID whose first 48 bits are the time in milliseconds', () => {
  const at = Date.UTC(2026, 10, 26, 12, 0, 0, 123);
  const id = timeOrderedId(at);
  assert.match(id, UUID_V7);
  assert.is(parseInt(id.slice(0, 8) + id.slice(9, 13), 16), at);
});

test('ids sort by time, and in order of making within one millisecond; 100,000 made at once are all different', () => {
  const at = Date.UTC(2026, 0, 1);
  const ids = Array.from({ length: 100_000 }, (_, i) => timeOrderedId(at + Math.floor(i / 1000)));
  assert.is(new Set(ids).size, ids.length);
  for (const id of ids) assert.match(id, UUID_V7);
  // Within a millisecond the 12-bit counter starts below 2048 and 1,000 ids never wrap it.
  assert.equal([...ids].sort(), ids);
  assert.ok(timeOrderedId(at + 1_000_000) > ids.at(-1)!);
});

test.run();
