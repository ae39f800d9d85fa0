import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expandNodeSet, foldNodeSet, isNodeSet, NODESET_LIMIT, NodeSetError, splitNodeSet } from '../../proto/nodeset.js';

const names = (prefix: string, from: number, to: number, width = 0) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${String(from + i).padStart(width, '0')}`);

test('expansion: ranges, lists, single names, top-level commas', () => {
  assert.equal(expandNodeSet('web[1-3]'), ['web1', 'web2', 'web3']);
  assert.equal(expandNodeSet('web[01-03,07],db1'), ['web01', 'web02', 'web03', 'web07', 'db1']);
  assert.equal(expandNodeSet('web-[1-2].dc1'), ['web-1.dc1', 'web-2.dc1']);
  assert.equal(expandNodeSet('db1'), ['db1']);
  assert.equal(expandNodeSet(' a1 , b[2] '), ['a1', 'b2'], 'spaces around patterns and a one-item bracket');
  assert.equal(expandNodeSet('web[1-2],web[2-3]'), ['web1', 'web2', 'web3'], 'each name once');
});

test('expansion keeps zero padding: web[01-10] is not web[1-10]', () => {
  assert.equal(expandNodeSet('web[01-10]'), names('web', 1, 10, 2));
  assert.equal(expandNodeSet('web[1-10]'), names('web', 1, 10));
  assert.equal(expandNodeSet('n[008-011]'), ['n008', 'n009', 'n010', 'n011']);
  assert.equal(expandNodeSet('n[0-1]'), ['n0', 'n1'], 'a lone 0 is not padding');
});

test('several bracket groups in one pattern: the cartesian product', () => {
  assert.equal(expandNodeSet('r[1-2]n[01-02]'), ['r1n01', 'r1n02', 'r2n01', 'r2n02']);
  assert.equal(expandNodeSet('r[1-2]n[1,3]'), ['r1n1', 'r1n3', 'r2n1', 'r2n3']);
});

test('malformed node sets throw a message naming the set and the fault', () => {
  const cases: [string, RegExp][] = [
    ['web[', /"\[" is never closed/],
    ['web]', /"\]" without "\["/],
    ['web[1-[2]]', /cannot nest/],
    ['web[3-1]', /range 3-1 goes down/],
    ['web[a-b]', /"a" is not a number/],
    ['web[]', /empty brackets/],
    ['web[1,,2]', /empty item/],
    ['web[1-]', /"" is not a number/],
    ['web[01-100]', /mixes widths/],
    ['web1,,web2', /empty pattern/],
    ['web1,', /empty pattern/],
    ['n[1-1234567890123456]', /more than 15 digits/],
  ];
  for (const [set, why] of cases) {
    assert.throws(() => expandNodeSet(set), (e: Error) => e instanceof NodeSetError && e.message.startsWith(`invalid node set "${set}": `) && why.test(e.message), set);
  }
});

test('expansion is bounded, counted before any name is built', () => {
  assert.is(expandNodeSet(`n[1-${NODESET_LIMIT}]`).length, NODESET_LIMIT);
  assert.throws(() => expandNodeSet(`n[1-${NODESET_LIMIT + 1}]`), /expands to 100001 names, more than the limit of 100000/);
  assert.throws(() => expandNodeSet('a[1-100000]b[1-100000]c[1-100000]d[1-100000]'), /more than the limit/);
  assert.throws(() => expandNodeSet('n[1-6],m[1-5]', 10), /expands to 11 names/);
});

test('folding: ranges, single numbers without brackets, sorted', () => {
  assert.is(foldNodeSet([...names('web', 1, 40, 2), 'web42']), 'web[01-40,42]');
  assert.is(foldNodeSet(['web3', 'web1', 'web2', 'web5']), 'web[1-3,5]');
  assert.is(foldNodeSet(['db1', 'web2', 'web1']), 'db1,web[1-2]');
  assert.is(foldNodeSet(['web1']), 'web1');
  assert.is(foldNodeSet(['web01']), 'web01');
  assert.is(foldNodeSet(['gateway', 'alpha', 'web1', 'web1']), 'alpha,gateway,web1', 'names without numbers, and duplicates');
  assert.is(foldNodeSet([]), '');
  assert.is(foldNodeSet(['web-9', 'web-10', 'web-11']), 'web-[9-11]', 'numeric order, not text order');
});

test('folding groups by prefix, suffix and padding', () => {
  assert.is(foldNodeSet(['web01', 'web02', 'web1', 'web2']), 'web[1-2],web[01-02]');
  assert.is(foldNodeSet(['a1.dc1', 'a2.dc1', 'a1.dc2']), 'a1.dc[1-2],a2.dc1', 'the last number folds, even in a domain');
  assert.is(foldNodeSet(['a1-x', 'a2-x', 'a3-y']), 'a[1-2]-x,a3-y');
  assert.is(foldNodeSet(['web1', 'web2', 'web10']), 'web[1-2,10]', 'an unpadded 10 is not a width-2 padded number');
  assert.is(foldNodeSet(['web09', 'web10', 'web11']), 'web[09-11]', 'a two-digit number joins the padded group of its width');
  assert.is(foldNodeSet(['r1n01', 'r1n02', 'r2n01']), 'r1n[01-02],r2n01', 'only the last number folds');
});

test('round trips: expand(fold(names)) gives the names back', () => {
  const sets = [
    names('web', 1, 40, 2).concat('web42'),
    names('n', 995, 1005, 4),
    names('n', 95, 105),
    [...names('web', 1, 12), ...names('web', 1, 12, 2), ...names('web', 1, 3, 3)],
    [...names('rack1-n', 1, 8, 2), ...names('rack2-n', 1, 8, 2), 'login', 'db-a', 'db-b'],
    expandNodeSet('r[1-3]n[01-16].example.org'),
  ];
  for (const set of sets) {
    const folded = foldNodeSet(set);
    assert.equal(expandNodeSet(folded).sort(), [...new Set(set)].sort(), folded);
    assert.is(foldNodeSet(expandNodeSet(folded)), folded, 'folding is stable');
  }
  for (const text of ['web[01-40,42]', 'db1,web[1-3]', 'web[1-2,10]', 'web[09-11]']) assert.is(foldNodeSet(expandNodeSet(text)), text);
});

test('split and detection', () => {
  assert.equal(splitNodeSet('web[1-3,5],db1'), ['web[1-3,5]', 'db1']);
  assert.ok(isNodeSet('web[1-3]'));
  assert.ok(isNodeSet('a,b'));
  assert.not.ok(isNodeSet('web-*'));
});

test.run();
