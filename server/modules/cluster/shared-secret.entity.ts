import { EntitySchema } from '@mikro-orm/core';

/** A secret every replica must hold the same (JWT signing secret, host CA, secrets key), sealed with cluster.key. */
export class SharedSecret {
  name!: string;
  sealed!: string;
  createdAt: Date = new Date();
}

export const SharedSecretSchema = new EntitySchema<SharedSecret>({
  class: SharedSecret,
  tableName: 'shared_secrets',
  properties: {
    name: { type: 'string', primary: true, length: 64 },
    sealed: { type: 'text' },
    createdAt: { type: 'datetime', length: 3 },
  },
});
