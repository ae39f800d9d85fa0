// Output is stored as text plus stream spans, so a replay from the database keeps stderr apart
// from stdout, also after the tail was cut to its byte limit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OutputTail, splitBySpans } from '../../server/modules/tasks/output-tail.js';

test('spans label every stretch; neighbours of one stream merge; round trip through text + spans', () => {
  const tail = new OutputTail(1000);
  tail.append('stdout', 'out\n');
  tail.append('stdout', 'more\n');
  tail.append('stderr', 'err\n');
  tail.append('stdout', 'é\n');
  assert.equal(tail.spans(), [9, -4, 2]);
  const back = new OutputTail(1000, tail.text(), false, tail.spans());
  assert.equal(back.list().map((c) => [c.stream, c.data]), [['stdout', 'out\nmore\n'], ['stderr', 'err\n'], ['stdout', 'é\n']]);
});

test('after the front is cut, the spans describe what is left', () => {
  const tail = new OutputTail(8);
  tail.append('stderr', 'aaaa');
  tail.append('stdout', 'bbbb');
  tail.append('stderr', 'cc');
  assert.is(tail.text(), 'aabbbbcc');
  assert.equal(tail.spans(), [-2, 4, -2]);
  assert.equal(splitBySpans(tail.text(), tail.spans()).map((c) => c.stream), ['stderr', 'stdout', 'stderr']);
});

test('rows written before spans existed read as stdout; spans shorter than the text leave the rest stdout', () => {
  assert.equal(splitBySpans('old output', []), [{ stream: 'stdout', data: 'old output' }]);
  assert.equal(splitBySpans('abcdef', [-2]), [{ stream: 'stderr', data: 'ab' }, { stream: 'stdout', data: 'cdef' }]);
  assert.equal(splitBySpans('', [3, -1]), []);
});

test.run();
