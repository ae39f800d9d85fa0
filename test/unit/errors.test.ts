// The error table is defined once (proto/errors.ts); this keeps README's copy of it in step.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { ERRORS, ErrorCode, OpsError, envelope } from '../../proto/errors.js';

test('README documents every error code with its HTTP status and message', () => {
  const readme = readFileSync('README.md', 'utf8');
  const rows = [...readme.matchAll(/^\| (\d+) \| (\d+) \| ([^|]+) \|$/gm)].map((m) => [Number(m[1]), Number(m[2]), m[3].trim()]);
  const table = Object.entries(ERRORS).map(([code, spec]) => [Number(code), spec.httpStatus, spec.message]);
  assert.equal(rows, table);
});

test('codes are unique and in their ranges', () => {
  const values = Object.values(ErrorCode);
  assert.is(new Set(values).size, values.length);
  for (const v of values) assert.ok(v === 0 || (v >= 1000 && v < 6000));
});

test('OpsError and envelope carry the table', () => {
  const err = new OpsError(ErrorCode.NOT_FOUND, 'node "x" not found');
  assert.is(err.httpStatus, 404);
  const env = envelope(null, err.code, err.message);
  assert.is(env.code, 1004);
  assert.is(env.message, 'node "x" not found');
  assert.ok(!Number.isNaN(Date.parse(env.timestamp)));
});

test.run();
