// REST bodies of /roles (TypeBox). opsctl and the web import only the types.
import { Type, type Static } from '@sinclair/typebox';
import { RoleName } from './users.js';

export const RoleView = Type.Object({
  name: Type.String(),
  description: Type.String(),
  permissions: Type.Array(Type.String()),
  builtin: Type.Boolean(),
  createdAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type RoleView = Static<typeof RoleView>;

export const RoleNameParams = Type.Object({ name: RoleName });

export const CreateRoleRequest = Type.Object({
  name: RoleName,
  description: Type.Optional(Type.String({ maxLength: 512 })),
  /** `resource:verb` strings from proto/permissions.ts. */
  permissions: Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 200, uniqueItems: true }),
}, { additionalProperties: false });
export type CreateRoleRequest = Static<typeof CreateRoleRequest>;
