// REST bodies of /users (TypeBox). opsctl and the web import only the types.
import { Type, type Static } from '@sinclair/typebox';
import { ROLE_NAME_PATTERN } from '../permissions.js';

export const USERNAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$';
export const GROUP_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';
/** New passwords; generated ones are 24 characters. */
export const MIN_PASSWORD_LENGTH = 12;

export const ScopeGroups = Type.Array(Type.String({ pattern: GROUP_NAME_PATTERN }), { maxItems: 100, uniqueItems: true });
export const RoleName = Type.String({ pattern: ROLE_NAME_PATTERN });

export const UserView = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: Type.String(),
  /** Groups the user is limited to; empty = every node. */
  scopeGroups: Type.Array(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
});
export type UserView = Static<typeof UserView>;

export const UsernameParams = Type.Object({ name: Type.String({ pattern: USERNAME_PATTERN }) });

export const CreateUserRequest = Type.Object({
  username: Type.String({ pattern: USERNAME_PATTERN }),
  /** Omitted: the manager generates one and returns it once. */
  password: Type.Optional(Type.String({ minLength: MIN_PASSWORD_LENGTH, maxLength: 1024 })),
  role: RoleName,
  scopeGroups: Type.Optional(ScopeGroups),
}, { additionalProperties: false });
export type CreateUserRequest = Static<typeof CreateUserRequest>;

export const UserCreated = Type.Object({
  user: UserView,
  /** Only when the manager generated it; shown once. */
  password: Type.Union([Type.String(), Type.Null()]),
});
export type UserCreated = Static<typeof UserCreated>;

export const SetRoleRequest = Type.Object({
  role: RoleName,
  /** Omitted: the scope stays as it is; [] = every node. */
  scopeGroups: Type.Optional(ScopeGroups),
}, { additionalProperties: false });
export type SetRoleRequest = Static<typeof SetRoleRequest>;

export const ChangePasswordRequest = Type.Object({
  /** Required to change one's own password; an admin resetting someone else's leaves it out. */
  currentPassword: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  /** Omitted when an admin resets: the manager generates one and returns it once. */
  newPassword: Type.Optional(Type.String({ minLength: MIN_PASSWORD_LENGTH, maxLength: 1024 })),
}, { additionalProperties: false });
export type ChangePasswordRequest = Static<typeof ChangePasswordRequest>;

export const PasswordChanged = Type.Object({
  /** Only when the manager generated it; shown once. */
  password: Type.Union([Type.String(), Type.Null()]),
  /** Sessions of the user that were ended. */
  sessionsRevoked: Type.Integer(),
});
export type PasswordChanged = Static<typeof PasswordChanged>;
