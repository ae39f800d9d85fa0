// The labels selectors match (host's overlaid by operator's) and how a host's bad labels are split off.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { effectiveLabels, splitValidLabels } from '../../proto/labels.js';
import { compileSelector } from '../../proto/selector.js';

test('effective labels: the host\'s, with the operator\'s winning on the same key; null and missing are empty', () => {
  assert.equal(effectiveLabels({ hostLabels: { env: 'prod', rack: 'r1' }, labels: { env: 'staging' } }), { env: 'staging', rack: 'r1' });
  assert.equal(effectiveLabels({ hostLabels: null, labels: { a: '1' } }), { a: '1' });
  assert.equal(effectiveLabels({}), {});
  const prod = compileSelector({ labels: 'env=prod' });
  assert.not.ok(prod({ name: 'n', labels: effectiveLabels({ hostLabels: { env: 'prod' }, labels: { env: 'staging' } }), groups: [] }));
});

test('splitValidLabels keeps the good ones and says why each other one is refused', () => {
  const { valid, problems } = splitValidLabels({ env: 'prod', 'bad key': 'x', tier: 'not ok!', 'example.com/rack': 'r1' });
  assert.equal(valid, { env: 'prod', 'example.com/rack': 'r1' });
  assert.is(problems.length, 2);
  assert.match(problems[0], /label key "bad key"/);
  assert.match(problems[1], /label tier: the value "not ok!"/);
});

test.run();
