// Finds the executor plugins in plugins.dir once, at start: each folder `<dir>/<name>/` with a
// plugin.json and the module it names. A plugin runs inside agentd with agentd's rights, so one
// that anyone but its owner could change is refused before any of its code is read; a plugin that
// is broken in any way is logged, listed in capabilities().pluginErrors (GET /v1/health) and
// skipped — one bad plugin never stops agentd or the others.
import { lstatSync, readdirSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../../lib/config.js';
import type { Logger } from '../../lib/log.js';
import { parseManifest, type ParamValue, type PluginManifest } from './manifest.js';

/** What a plugin's `run` receives besides its parameters: the same contract as the built-in kinds. */
export interface PluginContext {
  readonly runId: string;
  /** Aborted on timeout or cancel; `signal.reason` is 'timeout' or 'cancelled'. */
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  readonly log: Logger;
  output(stream: 'stdout' | 'stderr', text: string): void;
}

export type PluginRun = (params: Record<string, ParamValue>, ctx: PluginContext) => unknown;

export interface LoadedPlugin {
  manifest: PluginManifest;
  /** The plugin's folder. */
  dir: string;
  run: PluginRun;
}

export interface PluginSet {
  /** By name. */
  plugins: Map<string, LoadedPlugin>;
  /** Plugins that were not loaded, with why. */
  errors: { dir: string; error: string }[];
}

export interface LoadOptions {
  /** How long a plugin's module may take to import (top-level code). */
  importTimeoutMs?: number;
}

const writableByOthers = (st: Stats) => (st.mode & 0o022) !== 0;
const octal = (st: Stats) => (st.mode & 0o7777).toString(8).padStart(4, '0');

/** Loads every plugin under `dir` ('' = none). Throws a ConfigError only when `dir` itself is unusable. */
export async function loadPlugins(dir: string, log: Logger, opts: LoadOptions = {}): Promise<PluginSet> {
  if (!dir) return { plugins: new Map(), errors: [] };
  const root = resolve(dir);
  let st: Stats;
  try {
    st = statSync(root);
  } catch (err) {
    throw new ConfigError(`plugins.dir ${root}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (err as Error).message}`);
  }
  if (!st.isDirectory()) throw new ConfigError(`plugins.dir ${root} is not a directory`);
  // Whoever can add a folder here can run code as agentd.
  if (writableByOthers(st)) throw new ConfigError(`plugins.dir ${root} has mode ${octal(st)}: it must not be writable by group or others (chmod go-w ${root})`);

  const set: PluginSet = { plugins: new Map(), errors: [] };
  const entries = readdirSync(root, { withFileTypes: true }).filter((e) => !e.name.startsWith('.')).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const pluginDir = join(root, entry.name);
    if (entry.isFile()) continue; // a README or an archive next to the plugins
    try {
      const plugin = await loadPlugin(pluginDir, entry.name, opts.importTimeoutMs ?? 10_000);
      set.plugins.set(plugin.manifest.name, plugin);
      log.info({ plugin: `${plugin.manifest.name}@${plugin.manifest.version}`, dir: pluginDir }, 'plugin loaded');
    } catch (err) {
      const error = (err as Error).message;
      set.errors.push({ dir: pluginDir, error });
      log.warn({ dir: pluginDir, error }, 'plugin not loaded');
    }
  }
  return set;
}

async function loadPlugin(pluginDir: string, folderName: string, importTimeoutMs: number): Promise<LoadedPlugin> {
  if (lstatSync(pluginDir).isSymbolicLink()) throw new Error('the plugin folder is a symbolic link: copy the plugin into plugins.dir instead');
  checkNotWritableByOthers(pluginDir);

  let text: string;
  try {
    text = readFileSync(join(pluginDir, 'plugin.json'), 'utf8');
  } catch (err) {
    throw new Error((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no plugin.json in the plugin folder' : `reading plugin.json: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`plugin.json is not valid JSON: ${(err as Error).message}`);
  }
  const manifest = parseManifest(raw, folderName);

  const mainPath = join(pluginDir, manifest.main);
  let mainStat: Stats | undefined;
  try { mainStat = statSync(mainPath); } catch { /* reported below */ }
  if (!mainStat?.isFile()) throw new Error(`main ${manifest.main}: no such file in the plugin folder`);

  let timer: NodeJS.Timeout | undefined;
  let mod: Record<string, unknown>;
  try {
    mod = await Promise.race([
      import(pathToFileURL(mainPath).href) as Promise<Record<string, unknown>>,
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`did not finish loading within ${importTimeoutMs} ms`)), importTimeoutMs); }),
    ]);
  } catch (err) {
    throw new Error(`importing ${manifest.main}: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  if (typeof mod.run !== 'function') throw new Error(`${manifest.main} exports no run function (export async function run(params, ctx) { … })`);
  return { manifest, dir: pluginDir, run: mod.run as PluginRun };
}

/**
 * Refuses a plugin folder in which anything (the folder, plugin.json, its code) is writable by
 * group or others, or a symbolic link points outside the folder: either lets someone else change
 * the code agentd runs. Modes are read with lstat; a link inside the folder is judged by its target.
 */
function checkNotWritableByOthers(pluginDir: string): void {
  const realRoot = realpathSync(pluginDir);
  const walk = (path: string): void => {
    const rel = relative(pluginDir, path) || '.';
    const st = lstatSync(path);
    if (st.isSymbolicLink()) {
      let target: string;
      try {
        target = realpathSync(path);
      } catch {
        throw new Error(`${rel} is a symbolic link to nothing`);
      }
      if (target !== realRoot && !target.startsWith(realRoot + sep)) throw new Error(`${rel} is a symbolic link leaving the plugin folder (to ${target})`);
      const targetStat = statSync(target);
      if (writableByOthers(targetStat)) throw new Error(`${rel} (a link to ${relative(realRoot, target)}) has mode ${octal(targetStat)}: it must not be writable by group or others (chmod go-w)`);
      return;
    }
    if (writableByOthers(st)) throw new Error(`${rel} has mode ${octal(st)}: it must not be writable by group or others (chmod go-w)`);
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(pluginDir);
}
