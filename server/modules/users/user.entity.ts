import { EntitySchema } from '@mikro-orm/core';
import { PortableJson } from '../../db/portable-json.js';

export class User {
  id!: string;
  username!: string;
  /** `scrypt$N$r$p$salt$hash` (see password.ts). */
  passwordHash!: string;
  role!: string;
  /** Groups the user is limited to; empty = every node. */
  scopeGroups: string[] = [];
  createdAt: Date = new Date();
  updatedAt: Date = new Date();
}

export const UserSchema = new EntitySchema<User>({
  class: User,
  tableName: 'users',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    username: { type: 'string', length: 128, unique: true },
    passwordHash: { type: 'string', length: 255 },
    role: { type: 'string', length: 64, index: true },
    scopeGroups: { type: PortableJson },
    createdAt: { type: 'datetime', length: 3 },
    updatedAt: { type: 'datetime', length: 3 },
  },
});
