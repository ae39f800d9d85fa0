// Configuration for every process: flags > OPS_* environment > YAML file > defaults.
// Defaults live in one object per process, and the type of each default is the type of the key:
// a value of the wrong type fails start-up with a message naming the key and where it came from.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * yaml is loaded when a config file beyond parseSimpleYaml's shape is first read, not at import:
 * agentd started by hostd gets flags only, hostd reads the hostd.yaml install.sh wrote without it,
 * and yaml costs a daemon about 1 MB of private memory for its whole life. Loading must
 * stay synchronous (loadConfig is), hence require. In a host bundle `require` exists (the banner of
 * scripts/package.ts) and esbuild has put yaml inside; from the package, an ES module has none.
 */
function parseYaml(text: string): unknown {
  const yaml = (typeof require === 'function' ? require('yaml') : createRequire(import.meta.url)('yaml')) as typeof import('yaml');
  return yaml.parse(text);
}

const SIMPLE_KEY_LINE = /^( {2})?([A-Za-z][A-Za-z0-9]*):(?: (.*))?$/;

/** A value the YAML library would read as this, and nothing else; undefined when unsure. */
function simpleScalar(text: string): string | number | boolean | Record<string, never> | undefined {
  const quoted = /^"([^"\\]*)"$/.exec(text);
  if (quoted) return quoted[1];
  if (/^\/[A-Za-z0-9._/-]*$/.test(text)) return text; // a path: plain, but never a number or a keyword
  if (/^(?:0|[1-9][0-9]{0,14})$/.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  if (text === '{}') return {};
  return undefined;
}

/**
 * A config file of the shape scripts/install.sh writes — comment lines, mappings one level deep
 * (two-space indent), and values that are double-quoted strings without escapes, absolute paths,
 * integers, true/false or {} — read without the YAML library, which would cost a daemon ~0.9 MB of
 * private memory for the rest of its life. Gives exactly what yaml.parse gives for such a text
 * (test/unit/config.test.ts checks), and undefined for anything else, which yaml then reads.
 */
export function parseSimpleYaml(text: string): ConfigTree | undefined {
  const out: ConfigTree = {};
  const opened: ConfigTree[] = [];
  let open: ConfigTree | undefined;
  for (const line of text.split('\n')) {
    if (/^ *(#.*)?$/.test(line)) continue;
    const m = SIMPLE_KEY_LINE.exec(line);
    if (!m) return undefined;
    const [, indent, key, rawValue] = m;
    if (/^(null|true|false)$/i.test(key)) return undefined; // a key YAML reads as another type
    const into = indent ? open : out;
    if (!into || Object.hasOwn(into, key)) return undefined;
    if (rawValue === undefined) {
      if (indent) return undefined; // deeper than one level
      open = out[key] = {};
      opened.push(open);
      continue;
    }
    const value = simpleScalar(rawValue);
    if (value === undefined) return undefined;
    into[key] = value;
    if (!indent) open = undefined;
  }
  // `key:` with nothing under it is null to YAML; leave that to the library.
  if (opened.some((m) => Object.keys(m).length === 0) || Object.keys(out).length === 0) return undefined;
  return out;
}

/** A mapping default (`{}`, e.g. hostd's `labels`) holds free keys that may contain dots: it is one option. */
export type ConfigValue = string | number | boolean | string[] | Record<string, string>;
export type ConfigTree = { [key: string]: ConfigValue | ConfigTree };

export class ConfigError extends Error {
  constructor(message: string) { super(message); this.name = 'ConfigError'; }
}

/** `database.url` → `OPS_DATABASE_URL`, `grpc.heartbeatSeconds` → `OPS_GRPC_HEARTBEAT_SECONDS`. */
export function envName(key: string): string {
  return 'OPS_' + key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[.-]/g, '_').toUpperCase();
}

const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Flattens a tree to dotted keys: `{a: {b: 1}}` → `{'a.b': 1}`. An empty mapping is kept whole, and
 * so is a mapping at one of `mappings` (the options whose default is `{}`).
 */
export function flatten(tree: ConfigTree, prefix = '', mappings: ReadonlySet<string> = new Set()): Record<string, ConfigValue> {
  const out: Record<string, ConfigValue> = {};
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isMapping(v) && !mappings.has(key) && Object.keys(v).length > 0) Object.assign(out, flatten(v as ConfigTree, key, mappings));
    else out[key] = v as ConfigValue;
  }
  return out;
}

function unflatten<T>(flat: Record<string, ConfigValue>): T {
  const out: ConfigTree = {};
  for (const [key, value] of Object.entries(flat)) {
    const parts = key.split('.');
    let node = out;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as ConfigTree;
    node[parts[parts.length - 1]] = value;
  }
  return out as T;
}

/** Coerces a value (a string from env or flags, or anything from YAML) to the default's type. */
function coerce(key: string, value: unknown, like: ConfigValue, source: string): ConfigValue {
  const fail = (want: string): never => {
    throw new ConfigError(`config ${key} (from ${source}) must be ${want}, got ${JSON.stringify(value)}`);
  };
  if (isMapping(like)) {
    // From the environment or a flag: `key=value,key2=value2`.
    const entries = typeof value === 'string'
      ? value.split(',').map((s) => s.trim()).filter(Boolean).map((pair) => pair.includes('=') ? [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] : fail('key=value pairs separated by commas'))
      : isMapping(value) ? Object.entries(value) : fail('a mapping of names to values');
    return Object.fromEntries(entries.map(([k, v]) => [String(k), v !== null && typeof v === 'object' ? fail('a mapping of names to plain values') : String(v ?? '')]));
  }
  if (Array.isArray(like)) {
    // Lists of mappings (e.g. alerts.webhooks) pass through as they are; the process checks them.
    if (Array.isArray(value)) return value.map((v) => (v !== null && typeof v === 'object' ? v : String(v))) as ConfigValue;
    if (typeof value === 'string') return value.split(',').map((s) => s.trim()).filter(Boolean);
    return fail('a list of strings');
  }
  switch (typeof like) {
    case 'number': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      return Number.isFinite(n) ? n : fail('a number');
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      return fail('true or false');
    default:
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      return fail('a string');
  }
}

export interface LoadConfigOptions<T> {
  defaults: T;
  /** YAML file; a missing file is an error only when `fileRequired`. */
  file?: string;
  fileRequired?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, by dotted key; undefined entries are ignored. */
  flags?: Record<string, unknown>;
}

export function loadConfig<T extends object>(opts: LoadConfigOptions<T>): T {
  const defaults = flatten(opts.defaults as unknown as ConfigTree);
  const merged: Record<string, ConfigValue> = { ...defaults };

  if (opts.file) {
    let text: string | undefined;
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (err) {
      if (opts.fileRequired || (err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new ConfigError(`reading config file ${opts.file}: ${(err as Error).message}`);
      }
    }
    if (text !== undefined) {
      let parsed: unknown;
      try {
        parsed = parseSimpleYaml(text) ?? parseYaml(text);
      } catch (err) {
        throw new ConfigError(`parsing config file ${opts.file}: ${(err as Error).message}`);
      }
      if (parsed !== null && parsed !== undefined) {
        if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config file ${opts.file} must hold a mapping`);
        const mappings = new Set(Object.keys(defaults).filter((k) => isMapping(defaults[k])));
        for (const [key, value] of Object.entries(flatten(parsed as ConfigTree, '', mappings))) {
          if (!(key in defaults)) throw new ConfigError(`config file ${opts.file}: unknown option "${key}"`);
          if (value === null) continue;
          merged[key] = coerce(key, value, defaults[key], opts.file);
        }
      }
    }
  }

  const env = opts.env ?? process.env;
  for (const key of Object.keys(defaults)) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') merged[key] = coerce(key, value, defaults[key], `$${envName(key)}`);
  }

  for (const [key, value] of Object.entries(opts.flags ?? {})) {
    if (value === undefined) continue;
    if (!(key in defaults)) throw new ConfigError(`unknown option "${key}"`);
    merged[key] = coerce(key, value, defaults[key], 'command line');
  }
  return unflatten<T>(merged);
}

/** Parses durations like `90s`, `15m`, `1h`, `7d` (or plain seconds) into seconds. */
export function parseDuration(input: string): number {
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(input.trim());
  if (!m) throw new ConfigError(`invalid duration "${input}": use a number with s, m, h or d (e.g. 90s, 15m, 1h)`);
  const mult = { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * mult;
}
