// REST bodies of /groups (TypeBox). A group is a static list of nodes or a label selector (dynamic:
// the nodes that match, now and later). opsctl and the web import only the types.
import { Type, type Static } from '@sinclair/typebox';

/** Like a label value or a DNS label: lower case, digits, `-`, `.`, `_`, alphanumeric at both ends, ≤ 63. */
export const GROUP_NAME_PATTERN = '^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$';
export const GroupName = Type.String({ minLength: 1, maxLength: 63, pattern: GROUP_NAME_PATTERN });

/** Why `name` is not a group name, or undefined (opsctl says so before sending). */
export function groupNameProblem(name: string): string | undefined {
  return new RegExp(GROUP_NAME_PATTERN).test(name) ? undefined
    : `group name "${name}": at most 63 characters, lower-case letters, digits, '-', '.' or '_', starting and ending with a letter or digit`;
}

export const GroupView = Type.Object({
  name: Type.String(),
  description: Type.String(),
  /** The label selector of a dynamic group; null for a static one. */
  selector: Type.Union([Type.String(), Type.Null()]),
  kind: Type.Union([Type.Literal('static'), Type.Literal('dynamic')]),
  /** How many nodes are in the group now. */
  nodeCount: Type.Integer(),
  createdBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type GroupView = Static<typeof GroupView>;

export const GroupDetail = Type.Intersect([
  GroupView,
  Type.Object({ nodes: Type.Array(Type.String(), { description: 'Names of the nodes in the group, sorted' }) }),
]);
export type GroupDetail = Static<typeof GroupDetail>;

export const GroupNameParams = Type.Object({ name: GroupName });

export const CreateGroupRequest = Type.Object({
  name: GroupName,
  description: Type.Optional(Type.String({ maxLength: 512 })),
  /** A label selector (`env=prod,tier in (web,api)`): the group is dynamic. Without it, static and empty. */
  selector: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
}, { additionalProperties: false });
export type CreateGroupRequest = Static<typeof CreateGroupRequest>;

/** PATCH /groups/:name: nodes to add and remove (static groups), a new selector (dynamic ones), a description. */
export const UpdateGroupRequest = Type.Object({
  add: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { maxItems: 1000 })),
  remove: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { maxItems: 1000 })),
  selector: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  description: Type.Optional(Type.String({ maxLength: 512 })),
}, { additionalProperties: false });
export type UpdateGroupRequest = Static<typeof UpdateGroupRequest>;
