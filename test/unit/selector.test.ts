import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSelector, parseLabelSelector, SelectorError, selectorFromQuery, selectorToQuery, validateSelector, type SelectableNode } from '../../proto/selector.js';

const nodes: SelectableNode[] = [
  { name: 'web-1', labels: { env: 'prod', role: 'web' }, groups: ['frontend'] },
  { name: 'web-2', labels: { env: 'staging', role: 'web' }, groups: ['frontend'] },
  { name: 'db-1', labels: { env: 'prod', role: 'db', canary: 'yes' }, groups: ['backend'] },
];
const pick = (sel: Parameters<typeof compileSelector>[0]) => nodes.filter(compileSelector(sel)).map((n) => n.name);

test('label selector terms parse', () => {
  assert.equal(parseLabelSelector('env=prod, role!=db,zone in (a, b),tier notin (x),gpu,!canary'), [
    { key: 'env', op: '=', values: ['prod'] },
    { key: 'role', op: '!=', values: ['db'] },
    { key: 'zone', op: 'in', values: ['a', 'b'] },
    { key: 'tier', op: 'notin', values: ['x'] },
    { key: 'gpu', op: 'exists', values: [] },
    { key: 'canary', op: '!exists', values: [] },
  ]);
  assert.equal(parseLabelSelector('env==prod'), [{ key: 'env', op: '=', values: ['prod'] }]);
});

test('malformed label selectors are refused with a message', () => {
  for (const bad of ['', 'env=prod,', 'zone in (a,b', 'zone in ()', 'a b=c', 'env=pr od', 'x in (a))']) {
    assert.throws(() => parseLabelSelector(bad), (e: Error) => e instanceof SelectorError && e.message.length > 0, bad);
  }
});

test('matching: names and globs, labels, groups, all', () => {
  assert.equal(pick({ all: true }), ['web-1', 'web-2', 'db-1']);
  assert.equal(pick({ names: ['web-*'] }), ['web-1', 'web-2']);
  assert.equal(pick({ names: ['db-1', 'web-2'] }), ['web-2', 'db-1']);
  assert.equal(pick({ labels: 'env=prod' }), ['web-1', 'db-1']);
  assert.equal(pick({ labels: 'env=prod,role!=db' }), ['web-1']);
  assert.equal(pick({ labels: 'env in (staging, dev)' }), ['web-2']);
  assert.equal(pick({ labels: '!canary' }), ['web-1', 'web-2']);
  assert.equal(pick({ groups: ['backend'] }), ['db-1']);
  assert.equal(pick({ names: ['web-*'], labels: 'env=prod' }), ['web-1'], 'kinds combine with AND');
  assert.equal(pick({ all: true, labels: 'role=web' }), ['web-1', 'web-2']);
  assert.equal(pick({ names: ['nothing-*'] }), []);
});

test('an empty or contradictory selector is refused', () => {
  assert.throws(() => validateSelector({}), /no target/);
  assert.throws(() => validateSelector({ names: [] }), /no target/);
  assert.throws(() => validateSelector({ all: true, names: ['a'] }), /cannot be combined/);
  assert.throws(() => validateSelector({ names: ['../etc'] }), /invalid node name/);
});

test('a selector travels as query parameters and back', () => {
  assert.equal(selectorFromQuery({}), { all: true });
  assert.equal(selectorFromQuery({ names: ' web-*, db-1 ', labels: 'env=prod', groups: 'frontend,' }), { names: ['web-*', 'db-1'], groups: ['frontend'], labels: 'env=prod' });
  const sel = { names: ['web-*'], labels: 'role in (web,db)', groups: ['a', 'b'] };
  assert.equal(selectorFromQuery(selectorToQuery(sel)), sel);
  assert.equal(selectorToQuery({ all: true }), {});
  assert.throws(() => selectorFromQuery({ labels: 'env in (' }), (err: unknown) => err instanceof SelectorError);
  assert.throws(() => selectorFromQuery({ names: '../x' }), /invalid node name/);
});

test.run();
