// Secrets operators pass after a flag never start with "-" (hostd refused `--token -x…` as an
// ambiguous option; one random token in 64 began so, and a CI run failed on it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomToken } from '../../lib/random-token.js';

test('10,000 tokens: base64url of the asked size, none starting with a dash', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 10_000; i++) {
    const t = randomToken(32);
    assert.is(t.length, 43);
    assert.match(t, /^[A-Za-z0-9_][A-Za-z0-9_-]*$/);
    seen.add(t);
  }
  assert.is(seen.size, 10_000);
});

test.run();
