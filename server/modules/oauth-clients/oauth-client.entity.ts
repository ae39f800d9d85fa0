import { EntitySchema } from '@mikro-orm/core';
import { PortableJson } from '../../db/portable-json.js';

/** A machine account for the OAuth2 client-credentials grant. */
export class OAuthClient {
  /** The client_id. */
  id!: string;
  name!: string;
  /** sha256 of the client secret, lowercase hex; the secret itself is shown once. */
  secretHash!: string;
  role!: string;
  scopeGroups: string[] = [];
  createdBy!: string;
  createdAt: Date = new Date();
  lastUsedAt: Date | null = null;
}

export const OAuthClientSchema = new EntitySchema<OAuthClient>({
  class: OAuthClient,
  tableName: 'oauth_clients',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    name: { type: 'string', length: 64, unique: true },
    secretHash: { type: 'string', length: 64 },
    role: { type: 'string', length: 64, index: true },
    scopeGroups: { type: PortableJson },
    createdBy: { type: 'string', length: 300 },
    createdAt: { type: 'datetime', length: 3 },
    lastUsedAt: { type: 'datetime', length: 3, nullable: true },
  },
});
