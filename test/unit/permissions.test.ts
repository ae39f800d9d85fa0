// The permission table is defined once (proto/permissions.ts); this keeps README's copy of it,
// with the built-in roles that hold each permission, in step.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { ALL_PERMISSIONS, BUILTIN_ROLES, PERMISSIONS, isPermission } from '../../proto/permissions.js';

test('README documents every permission, what it allows and which built-in roles hold it', () => {
  const readme = readFileSync('README.md', 'utf8');
  const rows = [...readme.matchAll(/^\| `([a-z-]+:[a-z-]+)` \| (.+) \| ([a-z, ]*) \|$/gm)].map((m) => [m[1], m[2].trim(), m[3].trim()]);
  const table = ALL_PERMISSIONS.map((p) => [
    p, PERMISSIONS[p],
    Object.entries(BUILTIN_ROLES).filter(([, r]) => (r.permissions as readonly string[]).includes(p)).map(([name]) => name).join(', '),
  ]);
  assert.equal(rows, table);
});

test('permissions are resource:verb; roles hold only known ones; viewer ⊂ operator ⊂ admin', () => {
  for (const p of ALL_PERMISSIONS) assert.match(p, /^[a-z-]+:[a-z-]+$/);
  for (const role of Object.values(BUILTIN_ROLES)) for (const p of role.permissions) assert.ok(isPermission(p), p);
  const viewer = new Set<string>(BUILTIN_ROLES.viewer.permissions);
  const operator = new Set<string>(BUILTIN_ROLES.operator.permissions);
  assert.ok([...viewer].every((p) => operator.has(p)));
  assert.equal([...BUILTIN_ROLES.admin.permissions].sort(), [...ALL_PERMISSIONS].sort());
  assert.ok([...viewer].every((p) => p.endsWith(':read')), 'a viewer changes nothing');
});

test.run();
