// A plugin's plugin.json, checked field by field. Every problem is reported at once ("params.expect.type
// must be one of string, integer, number, boolean; main is required"), so whoever writes a plugin
// fixes its manifest in one go rather than one start of agentd per mistake.
import { PLUGIN_NAME_PATTERN, PLUGIN_PARAM_PATTERN } from '../../proto/agent-api.js';

export const PARAM_TYPES = ['string', 'integer', 'number', 'boolean'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];
export type ParamValue = string | number | boolean;

export interface ParamSpec {
  type: ParamType;
  required: boolean;
  default?: ParamValue;
  description?: string;
}

export interface PluginManifest {
  /** Names the plugin in tasks (`{kind: 'plugin', params: {name}}`); equals its folder's name. */
  name: string;
  version: string;
  /** What sort of work it does (a label shown to people); defaults to the name. */
  kind: string;
  description: string;
  /** The module, relative to the plugin folder. */
  main: string;
  params: Record<string, ParamSpec>;
}

export class ManifestError extends Error {
  constructor(readonly problems: string[]) {
    super(`plugin.json: ${problems.join('; ')}`);
    this.name = 'ManifestError';
  }
}

const MANIFEST_FIELDS = ['name', 'version', 'kind', 'description', 'main', 'params'];
const SPEC_FIELDS = ['type', 'required', 'default', 'description'];
const VERSION_PATTERN = /^\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]*)?$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True when `value` is a valid value of `type` as JSON (a default, or what a conversion produced). */
export function isOfType(type: ParamType, value: unknown): value is ParamValue {
  switch (type) {
    case 'string': return typeof value === 'string';
    case 'integer': return Number.isSafeInteger(value);
    case 'number': return typeof value === 'number' && Number.isFinite(value);
    case 'boolean': return typeof value === 'boolean';
  }
}

/** Checks the parsed plugin.json of the plugin in folder `folderName`; throws a ManifestError listing every problem. */
export function parseManifest(raw: unknown, folderName: string): PluginManifest {
  if (!isObject(raw)) throw new ManifestError(['must be a JSON object']);
  const problems: string[] = [];
  for (const key of Object.keys(raw)) {
    if (!MANIFEST_FIELDS.includes(key)) problems.push(`${key} is not a manifest field (allowed: ${MANIFEST_FIELDS.join(', ')})`);
  }
  const text = (key: string, opts: { required: boolean; pattern?: RegExp; patternText?: string }): string | undefined => {
    const v = raw[key];
    if (v === undefined) {
      if (opts.required) problems.push(`${key} is required`);
      return undefined;
    }
    if (typeof v !== 'string' || v === '') { problems.push(`${key} must be a non-empty string`); return undefined; }
    if (opts.pattern && !opts.pattern.test(v)) { problems.push(`${key} "${v}" must be ${opts.patternText}`); return undefined; }
    return v;
  };
  const nameText = 'lower case letters, digits and dashes (at most 64, not starting with a dash)';
  const name = text('name', { required: true, pattern: new RegExp(PLUGIN_NAME_PATTERN), patternText: nameText });
  if (name !== undefined && name !== folderName) problems.push(`name "${name}" must equal the plugin's folder name "${folderName}"`);
  const version = text('version', { required: true, pattern: VERSION_PATTERN, patternText: 'a version like 1.0.0' });
  const kind = text('kind', { required: false, pattern: new RegExp(PLUGIN_NAME_PATTERN), patternText: nameText });
  const description = text('description', { required: false });
  const main = text('main', { required: true, pattern: /^[^/\\][^\\]*\.(mjs|js)$/, patternText: 'a relative path to a .mjs or .js file' });
  if (main !== undefined && main.split('/').includes('..')) problems.push(`main "${main}" must stay inside the plugin folder (no ..)`);
  const params = parseParams(raw.params, problems);
  if (problems.length > 0) throw new ManifestError(problems);
  return { name: name!, version: version!, kind: kind ?? name!, description: description ?? '', main: main!, params };
}

function parseParams(raw: unknown, problems: string[]): Record<string, ParamSpec> {
  const params: Record<string, ParamSpec> = {};
  if (raw === undefined) return params;
  if (!isObject(raw)) { problems.push('params must be an object of parameter name → {type, required, default, description}'); return params; }
  const namePattern = new RegExp(PLUGIN_PARAM_PATTERN);
  for (const [pname, spec] of Object.entries(raw)) {
    const at = `params.${pname}`;
    if (!namePattern.test(pname)) { problems.push(`${at}: a parameter name must be letters, digits and _ (not starting with a digit, at most 64)`); continue; }
    if (!isObject(spec)) { problems.push(`${at} must be an object {type, required, default, description}`); continue; }
    const before = problems.length;
    for (const key of Object.keys(spec)) {
      if (!SPEC_FIELDS.includes(key)) problems.push(`${at}.${key} is not allowed (allowed: ${SPEC_FIELDS.join(', ')})`);
    }
    const type = spec.type as ParamType;
    if (!PARAM_TYPES.includes(type)) problems.push(`${at}.type must be one of ${PARAM_TYPES.join(', ')}, got ${JSON.stringify(spec.type)}`);
    if (spec.required !== undefined && typeof spec.required !== 'boolean') problems.push(`${at}.required must be true or false`);
    if (spec.description !== undefined && typeof spec.description !== 'string') problems.push(`${at}.description must be a string`);
    if (spec.default !== undefined && PARAM_TYPES.includes(type) && !isOfType(type, spec.default)) {
      problems.push(`${at}.default must be a${type === 'integer' ? 'n' : ''} ${type}, got ${JSON.stringify(spec.default)}`);
    }
    if (spec.required === true && spec.default !== undefined) problems.push(`${at}: a required parameter cannot have a default`);
    if (problems.length > before) continue;
    params[pname] = {
      type,
      required: spec.required === true,
      ...(spec.default !== undefined ? { default: spec.default as ParamValue } : {}),
      ...(spec.description !== undefined ? { description: spec.description as string } : {}),
    };
  }
  return params;
}
