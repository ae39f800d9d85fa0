import { EntitySchema } from '@mikro-orm/core';
import type { Interpreter, TaskKind } from '../../../proto/rest/tasks.js';
import type { TemplateParam } from '../../../proto/template-params.js';
import { PortableJson } from '../../db/portable-json.js';
import { Template } from './template.entity.js';

/** One version of a template, never changed once written: tasks record which one they ran. */
export class TemplateVersion {
  id!: string;
  template!: Template;
  version!: number;
  /** script: parameters reach it as environment, never in its text; plugin: they become the plugin's parameters. */
  kind: TaskKind = 'script';
  /** The script; "" for the other kinds. */
  script!: string;
  /** The other kinds' fixed parameters, as POST /tasks takes them in the kind's field; null for scripts. */
  taskParams: Record<string, unknown> | null = null;
  interpreter!: Interpreter;
  params: TemplateParam[] = [];
  description = '';
  createdBy!: string;
  createdAt: Date = new Date();
}

export const TemplateVersionSchema = new EntitySchema<TemplateVersion>({
  class: TemplateVersion,
  tableName: 'template_versions',
  uniques: [{ properties: ['template', 'version'] }],
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    template: { kind: 'm:1', entity: () => Template, deleteRule: 'cascade' },
    version: { type: 'integer' },
    kind: { type: 'string', length: 16 },
    // mediumtext: scripts may be up to 1 MiB and MySQL's text stops at 64 KiB.
    script: { type: 'text', columnType: 'mediumtext' },
    interpreter: { type: 'string', length: 16 },
    params: { type: PortableJson },
    taskParams: { type: PortableJson, nullable: true },
    description: { type: 'string', length: 1024 },
    createdBy: { type: 'string', length: 300 },
    createdAt: { type: 'datetime', length: 3 },
  },
});
