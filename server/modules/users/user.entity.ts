import { EntitySchema } from '@mikro-orm/core';

export class User {
  id!: string;
  username!: string;
  /** `scrypt$N$r$p$salt$hash` (see password.ts). */
  passwordHash!: string;
  role!: string;
  createdAt: Date = new Date();
}

export const UserSchema = new EntitySchema<User>({
  class: User,
  tableName: 'users',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    username: { type: 'string', length: 128, unique: true },
    passwordHash: { type: 'string', length: 255 },
    role: { type: 'string', length: 32 },
    createdAt: { type: 'datetime', length: 3 },
  },
});
