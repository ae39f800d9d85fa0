// A plugin task's parameters travel as text (`-p expect=200` on the command line, a string map in
// the Dispatch message); here they become the types the plugin's manifest declares. Unknown
// names, missing required ones and text that is not a value of its type are all reported
// together, before the run is queued, so a plugin only ever sees the parameters it declared.
import type { ParamSpec, ParamType, ParamValue, PluginManifest } from './manifest.js';

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The value of `text` as `type`, or undefined when it is not one. */
export function convertParam(type: ParamType, text: string): ParamValue | undefined {
  switch (type) {
    case 'string': return text;
    case 'integer': {
      if (!INTEGER.test(text)) return undefined;
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : undefined;
    }
    case 'number': {
      if (!NUMBER.test(text)) return undefined;
      const n = Number(text);
      return Number.isFinite(n) ? n : undefined;
    }
    case 'boolean': return text === 'true' ? true : text === 'false' ? false : undefined;
  }
}

const expected: Record<ParamType, string> = {
  string: 'text',
  integer: 'a whole number (e.g. 200)',
  number: 'a number (e.g. 1.5)',
  boolean: 'true or false',
};

/** A parameter as usage text: `url (string, required)`, `expect (integer, default 200)`. */
export function describeParam(name: string, spec: ParamSpec): string {
  const extra = spec.required ? ', required' : spec.default !== undefined ? `, default ${JSON.stringify(spec.default)}` : '';
  return `${name} (${spec.type}${extra})`;
}

/**
 * The typed parameters (defaults filled in) for a run of `manifest`'s plugin, or the list of
 * problems, each naming its parameter.
 */
export function convertParams(manifest: PluginManifest, given: Record<string, string> = {}): { values: Record<string, ParamValue> } | { problems: string[] } {
  const problems: string[] = [];
  const values: Record<string, ParamValue> = {};
  const declared = Object.keys(manifest.params);
  for (const [name, text] of Object.entries(given)) {
    const spec = Object.hasOwn(manifest.params, name) ? manifest.params[name] : undefined;
    if (!spec) {
      const allowed = declared.length > 0 ? declared.map((n) => describeParam(n, manifest.params[n])).join(', ') : 'none';
      problems.push(`unknown parameter ${name} (${manifest.name} takes: ${allowed})`);
      continue;
    }
    const value = convertParam(spec.type, text);
    if (value === undefined) problems.push(`parameter ${name} must be ${expected[spec.type]}, got ${JSON.stringify(text)}`);
    else values[name] = value;
  }
  for (const [name, spec] of Object.entries(manifest.params)) {
    if (Object.hasOwn(given, name)) continue;
    if (spec.required) problems.push(`parameter ${name} is required (${spec.type}${spec.description ? `: ${spec.description}` : ''})`);
    else if (spec.default !== undefined) values[name] = spec.default;
  }
  return problems.length > 0 ? { problems } : { values };
}
