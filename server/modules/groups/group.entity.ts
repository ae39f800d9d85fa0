import { EntitySchema } from '@mikro-orm/core';
import { PortableJson } from '../../db/portable-json.js';

/**
 * A node group. Static members are a JSON list of node ids rather than a join table: what every
 * reader needs (selectors, scopes) is the node's own `groups` column, which membership.ts keeps;
 * this list is read only when membership is recomputed, always whole, and groups are few.
 */
export class Group {
  id!: string;
  name!: string;
  description = '';
  /** Label selector of a dynamic group; null for a static one. */
  selector: string | null = null;
  /** Node ids of a static group (empty for a dynamic one). */
  members: string[] = [];
  createdBy!: string;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();
}

export const GroupSchema = new EntitySchema<Group>({
  class: Group,
  tableName: 'groups',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    name: { type: 'string', length: 63, unique: true },
    description: { type: 'string', length: 512 },
    selector: { type: 'string', length: 1024, nullable: true },
    members: { type: PortableJson },
    createdBy: { type: 'string', length: 300 },
    createdAt: { type: 'datetime', length: 3 },
    updatedAt: { type: 'datetime', length: 3 },
  },
});
