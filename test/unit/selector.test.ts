import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSelector, parseLabelSelector, parseSelectorText, SelectorError, selectorFromQuery, selectorToQuery, validateSelector, type SelectableNode } from '../../proto/selector.js';

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

test('node sets in names: expanded where the selector is compiled, mixed with names and globs', () => {
  assert.equal(pick({ names: ['web-[1-2]'] }), ['web-1', 'web-2']);
  assert.equal(pick({ names: ['web-[2-9],db-1'] }), ['web-2', 'db-1'], 'unknown names in a set match nothing, as unknown names do');
  assert.equal(pick({ names: ['db-[1]', 'web-*'] }), ['web-1', 'web-2', 'db-1']);
  assert.equal(pick({ names: ['web-[01-02]'] }), [], 'padding is kept: web-01 is not web-1');
  assert.equal(pick({ names: ['web-[1-2]'], labels: 'env=prod' }), ['web-1']);
  const big = nodes.filter(compileSelector({ names: ['web-[1-99999]'] })).map((n) => n.name);
  assert.equal(big, ['web-1', 'web-2']);
});

test('a malformed or oversized node set is refused with the parser\'s message', () => {
  assert.throws(() => validateSelector({ names: ['web['] }), (e: Error) => e instanceof SelectorError && e.message === 'invalid node set "web[": "[" is never closed');
  assert.throws(() => validateSelector({ names: ['web[3-1]'] }), /invalid node set "web\[3-1\]": range 3-1 goes down/);
  assert.throws(() => validateSelector({ names: ['web[a-b]'] }), /"a" is not a number/);
  assert.throws(() => validateSelector({ names: ['web[1-2]/x'] }), /invalid node name or glob "web1\/x"/);
  assert.throws(() => validateSelector({ names: ['a[1-60000]', 'b[1-60000]'] }), /more than the limit of 100000/, 'the limit holds for all the sets together');
  assert.throws(() => compileSelector({ names: ['web]'] }), (e: unknown) => e instanceof SelectorError);
});

test('a node set travels as one query entry: commas inside brackets do not split it', () => {
  const sel = { names: ['web[01-40,42]', 'db-1'] };
  assert.equal(selectorToQuery(sel), { names: 'web[01-40,42],db-1' });
  assert.equal(selectorFromQuery(selectorToQuery(sel)), sel);
  assert.throws(() => selectorFromQuery({ names: 'web[1-2' }), /"\[" is never closed/);
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


test('a selector typed as on the command line (the web UI filter) becomes the query GET /nodes reads', () => {
  assert.equal(parseSelectorText(''), {});
  assert.equal(parseSelectorText('  --all '), {});
  assert.equal(parseSelectorText('web-* db1'), { names: 'web-*,db1' });
  assert.equal(parseSelectorText('web[1-3,5],db1'), { names: 'web[1-3,5],db1' });
  assert.equal(parseSelectorText('web-* -l env=prod,zone in (a, b) -g dbs'), { names: 'web-*', labels: 'env=prod,zone in (a, b)', groups: 'dbs' });
  assert.equal(parseSelectorText('-l env=prod -l !canary --group a,b -g c'), { labels: 'env=prod,!canary', groups: 'a,b,c' });
  assert.equal(parseSelectorText('--label=role=web'), { labels: 'role=web' });
  // What it gives, selectorFromQuery reads back as describeSelector wrote it.
  const q = parseSelectorText('web-1 -l env=prod -g frontend');
  assert.equal(pick(selectorFromQuery(q)), ['web-1']);
});

test('a typed selector with a flag but no value, or an unknown flag, is refused with a message', () => {
  for (const bad of ['-l', 'web -g ', '-x foo', 'web --name a']) {
    assert.throws(() => parseSelectorText(bad), (e: Error) => e instanceof SelectorError && /-/.test(e.message), bad);
  }
});

test.run();
