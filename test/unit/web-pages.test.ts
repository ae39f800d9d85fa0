// The manager answers the web UI's page paths with index.html (proto/web-pages.ts); the app's
// router (web/src/App.tsx) must not have a page the manager would answer with a 404 on reload.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { WEB_PAGES } from '../../proto/web-pages.js';

test('every route of the web app lies under a path the manager serves index.html for', () => {
  const app = readFileSync(new URL('../../web/src/App.tsx', import.meta.url), 'utf8');
  const paths = [...app.matchAll(/<Route path="([^"]+)"/g)].map((m) => m[1]!).filter((p) => p !== '*');
  assert.ok(paths.length >= 8, paths.join(' '));
  for (const path of paths) {
    const top = `/${path.split('/')[1] ?? ''}`;
    assert.ok((WEB_PAGES as readonly string[]).includes(top), `${path} (under ${top}) is not in WEB_PAGES`);
  }
  for (const page of WEB_PAGES) assert.ok(paths.includes(page), `${page} in WEB_PAGES has no route in App.tsx`);
});

test.run();
