import { EntitySchema } from '@mikro-orm/core';
import { PortableJson } from '../../db/portable-json.js';

/** A custom role; the built-in ones (viewer, operator, admin) live in proto/permissions.ts. */
export class Role {
  name!: string;
  description = '';
  permissions: string[] = [];
  createdBy!: string;
  createdAt: Date = new Date();
}

export const RoleSchema = new EntitySchema<Role>({
  class: Role,
  tableName: 'roles',
  properties: {
    name: { type: 'string', length: 64, primary: true },
    description: { type: 'string', length: 512 },
    permissions: { type: PortableJson },
    createdBy: { type: 'string', length: 300 },
    createdAt: { type: 'datetime', length: 3 },
  },
});
