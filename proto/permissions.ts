// The one table of permissions (`resource:verb`) and the built-in roles made of them, used by the
// manager (every route declares one), opsctl (`roles create --permission`) and the web. README's
// table is kept in step by a test. A permission's name is stable forever; add rows, never reuse.

export const PERMISSIONS = {
  'nodes:read': 'List and show nodes, their facts and metrics.',
  'nodes:delete': 'Delete a node (revokes its certificate).',
  'nodes:label': 'Set and remove the labels of nodes in scope.',
  'nodes:enroll': 'Create enrollment tokens for new hosts.',
  'nodes:approve': 'Approve or deny a known host name enrolling with a new key (replaces its certificate).',
  'groups:read': 'List and show node groups (a scoped caller: the groups of its scope).',
  'groups:write': 'Create, change and delete node groups (groups make scopes, so not operators).',
  'tasks:read': 'List and show tasks, follow their output.',
  'tasks:run': 'Run scripts and plugins on the nodes in scope.',
  'tasks:cancel': 'Cancel running tasks on the nodes in scope.',
  'users:read': 'List and show users.',
  'users:write': 'Create, delete and change users, reset their passwords.',
  'roles:read': 'List and show roles.',
  'roles:write': 'Create and delete custom roles.',
  'tokens:read': 'List API tokens (one\'s own; with users:write, everyone\'s).',
  'tokens:write': 'Create and revoke API tokens (one\'s own; with users:write, everyone\'s).',
  'clients:read': 'List OAuth2 clients.',
  'clients:write': 'Create and delete OAuth2 clients.',
  'audit:read': 'Read and verify the audit log.',
  'files:read': 'Download files from the nodes in scope.',
  'files:write': 'Upload, copy and delete files on the nodes in scope.',
  'services:read': 'Ask the status of services on the nodes in scope.',
  'services:control': 'Start, stop and restart services on the nodes in scope.',
  'templates:read': 'List and show task templates and their versions.',
  'templates:write': 'Create, change and delete task templates.',
  'schedules:read': 'List and show schedules and their recent fires.',
  'schedules:write': 'Create, pause, resume and delete schedules (they run as their creator).',
  'releases:read': 'List and show releases and rollouts.',
  'releases:write': 'Upload signed releases and start, pause, resume and roll back rollouts.',
  'events:read': 'List events and alerts (node offline, disk full, memory high, agent crash loop).',
  'cluster:read': 'List the manager processes (replicas), their versions and host streams, and which one leads.',
} as const;

export type Permission = keyof typeof PERMISSIONS;
export const ALL_PERMISSIONS = Object.keys(PERMISSIONS) as Permission[];

export function isPermission(value: string): value is Permission {
  return Object.hasOwn(PERMISSIONS, value);
}

// Reading a host's files is more than reading the manager's records: viewers do not get it.
const READ = ALL_PERMISSIONS.filter((p) => p.endsWith(':read') && p !== 'files:read');

/** Built-in roles: cannot be changed or deleted; custom roles may not take these names. */
export const BUILTIN_ROLES = {
  viewer: { description: 'Reads everything but the hosts\' files; changes nothing.', permissions: READ },
  operator: {
    description: 'Viewer, plus labels nodes, runs and cancels tasks, changes files and services, manages templates, schedules, releases and rollouts and its own API tokens.',
    permissions: [...READ, 'nodes:label', 'tasks:run', 'tasks:cancel', 'files:read', 'files:write', 'services:control', 'tokens:write', 'templates:write', 'schedules:write', 'releases:write'] as Permission[],
  },
  admin: { description: 'Everything.', permissions: ALL_PERMISSIONS },
} satisfies Record<string, { description: string; permissions: Permission[] }>;

export type BuiltinRoleName = keyof typeof BUILTIN_ROLES;

export function isBuiltinRole(name: string): name is BuiltinRoleName {
  return Object.hasOwn(BUILTIN_ROLES, name);
}

/** Role names: lower case, digits, `-` and `_`, starting with a letter. */
export const ROLE_NAME_PATTERN = '^[a-z][a-z0-9_-]{0,63}$';
