import { EntitySchema } from '@mikro-orm/core';
import { PortableJson } from '../../db/portable-json.js';
import { User } from '../users/user.entity.js';

/** A long-lived token for scripts, acting for its owner (and ending with them). */
export class ApiToken {
  id!: string;
  name!: string;
  /** sha256 of the token, lowercase hex; the token itself is shown once. */
  tokenHash!: string;
  owner!: User;
  role!: string;
  scopeGroups: string[] = [];
  createdAt: Date = new Date();
  lastUsedAt: Date | null = null;
  expiresAt: Date | null = null;
  revokedAt: Date | null = null;
}

export const ApiTokenSchema = new EntitySchema<ApiToken>({
  class: ApiToken,
  tableName: 'api_tokens',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    name: { type: 'string', length: 64 },
    tokenHash: { type: 'string', length: 64, unique: true },
    owner: { kind: 'm:1', entity: () => User, deleteRule: 'cascade', index: true },
    role: { type: 'string', length: 64, index: true },
    scopeGroups: { type: PortableJson },
    createdAt: { type: 'datetime', length: 3 },
    lastUsedAt: { type: 'datetime', length: 3, nullable: true },
    expiresAt: { type: 'datetime', length: 3, nullable: true },
    revokedAt: { type: 'datetime', length: 3, nullable: true },
  },
});
