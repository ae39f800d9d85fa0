import { EntitySchema } from '@mikro-orm/core';

/** A named, versioned script with typed parameters; its versions are TemplateVersion rows. */
export class Template {
  id!: string;
  name!: string;
  latestVersion = 1;
  createdBy!: string;
  createdAt: Date = new Date();
}

export const TemplateSchema = new EntitySchema<Template>({
  class: Template,
  tableName: 'templates',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    name: { type: 'string', length: 128, unique: true },
    latestVersion: { type: 'integer' },
    createdBy: { type: 'string', length: 300 },
    createdAt: { type: 'datetime', length: 3 },
  },
});
