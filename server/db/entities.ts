// Every entity of the manager, gathered from the feature modules, for the ORM and the migration
// generator.
import type { EntitySchema } from '@mikro-orm/core';
import { loadModules } from '../module-loader.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function managerEntities(): Promise<EntitySchema<any, any>[]> {
  return (await loadModules()).flatMap((m) => m.entities ?? []);
}
