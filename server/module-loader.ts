// Finds the manager's feature modules (every folder of server/modules with an index) and puts
// them in dependency order. Loaded once per process; the same list serves the ORM, the services,
// the routes and the migration generator.
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ManagerModule } from './module.js';

const MODULES_DIR = new URL('./modules/', import.meta.url);

let loading: Promise<ManagerModule[]> | undefined;

export function loadModules(): Promise<ManagerModule[]> {
  return (loading ??= discover());
}

async function discover(): Promise<ManagerModule[]> {
  const dir = fileURLToPath(MODULES_DIR);
  const names = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const modules: ManagerModule[] = [];
  for (const name of names) {
    // dist/ holds index.js; under tsx the sources hold index.ts, which the same specifier reaches.
    if (!existsSync(`${dir}${name}/index.js`) && !existsSync(`${dir}${name}/index.ts`)) {
      throw new Error(`server/modules/${name} has no index (every module exports its definition from index.ts)`);
    }
    const mod = (await import(new URL(`./${name}/index.js`, MODULES_DIR).href)) as { default?: ManagerModule };
    if (!mod.default || mod.default.name !== name) throw new Error(`server/modules/${name}/index must default-export defineModule({name: '${name}', ...})`);
    modules.push(mod.default);
  }
  return orderByDependencies(modules);
}

/** Depth-first topological order; a missing or circular dependency stops start-up with its path. */
export function orderByDependencies(modules: ManagerModule[]): ManagerModule[] {
  const byName = new Map(modules.map((m) => [m.name, m]));
  const done = new Set<string>();
  const ordered: ManagerModule[] = [];
  const visit = (m: ManagerModule, path: string[]) => {
    if (done.has(m.name)) return;
    if (path.includes(m.name)) throw new Error(`circular module dependency: ${[...path, m.name].join(' → ')}`);
    for (const dep of m.after ?? []) {
      const d = byName.get(dep);
      if (!d) throw new Error(`module ${m.name} needs module ${dep}, which does not exist`);
      visit(d, [...path, m.name]);
    }
    done.add(m.name);
    ordered.push(m);
  };
  for (const m of modules) visit(m, []);
  return ordered;
}
