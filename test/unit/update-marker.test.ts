// The update marker (hostd/updater/marker.ts): what hostd writes, the launcher (sh + sed) reads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatMarker, markerPath, parseMarker, readMarker, reportedState, writeMarker, type UpdateMarker } from '../../hostd/updater/marker.js';

const marker: UpdateMarker = {
  op: 'update', state: 'health-check', rollout: 'r-1', from: '1.0.0', to: '2.0.0', healthSeconds: 30, deadline: 1_800_000_000, code: 0, at: 1_799_999_000_000, message: 'hostd 2.0.0 is up',
};

test('written and read back, one key per line', () => {
  const text = formatMarker(marker);
  assert.is(text.split('\n').filter(Boolean).length, 10);
  assert.equal(parseMarker(text), marker);
});

test('a value cannot add a line: a rollout id or message with newlines stays on its own', () => {
  const sneaky = { ...marker, rollout: 'r\nstate=committed', message: 'a\nto=9.9.9\r\n' };
  const parsed = parseMarker(formatMarker(sneaky))!;
  assert.is(parsed.state, 'health-check');
  assert.is(parsed.to, '2.0.0');
  assert.is(parsed.rollout, 'r state=committed');
});

test('unreadable, unknown state or op, or no version: no marker', () => {
  for (const text of ['', 'garbage', formatMarker(marker).replace('state=health-check', 'state=dancing'), formatMarker(marker).replace('op=update', 'op=x'), formatMarker(marker).replace('to=2.0.0', 'to=')]) {
    assert.is(parseMarker(text), undefined, text);
  }
  assert.is(readMarker('/nonexistent-prefix'), undefined);
});

test('on disk: mode 0600, and sed reads the fields the way the launcher does', () => {
  const prefix = mkdtempSync(join(tmpdir(), 'ops-marker-'));
  try {
    writeMarker(prefix, marker);
    assert.equal(readMarker(prefix), marker);
    const field = (key: string) => execFileSync('sh', ['-c', `sed -n "s/^${key}=//p" "$1" | head -n 1`, 'sh', markerPath(prefix)], { encoding: 'utf8' }).trim();
    assert.is(field('state'), 'health-check');
    assert.is(field('to'), '2.0.0');
    assert.is(field('deadline'), '1800000000');
  } finally {
    rmSync(prefix, { recursive: true, force: true });
  }
});

test('internal steps map to the reported states', () => {
  assert.is(reportedState('swapping'), 'restarting');
  assert.is(reportedState('reverting'), 'health-check');
  assert.is(reportedState('committed'), 'committed');
});

test.run();
