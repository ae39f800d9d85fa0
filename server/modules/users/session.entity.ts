import { EntitySchema } from '@mikro-orm/core';
import { User } from './user.entity.js';

/** A login: the access token names it (`sid`), so logout or a password reset ends it at once. */
export class Session {
  id!: string;
  user!: User;
  createdAt: Date = new Date();
  expiresAt!: Date;
  revokedAt: Date | null = null;
  source = '';
}

export const SessionSchema = new EntitySchema<Session>({
  class: Session,
  tableName: 'sessions',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    user: { kind: 'm:1', entity: () => User, deleteRule: 'cascade', index: true },
    createdAt: { type: 'datetime', length: 3 },
    expiresAt: { type: 'datetime', length: 3, index: true },
    revokedAt: { type: 'datetime', length: 3, nullable: true },
    source: { type: 'string', length: 64 },
  },
});
