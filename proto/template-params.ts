// Template parameters, both sides in one file: opsctl parses `--param count:int=3` into a
// definition, the manager checks definitions when a template is stored and the values a run
// gives. Values reach the script only as environment variables (OPS_PARAM_<NAME>), never spliced
// into its text, so no value can change what the script is. No imports: opsctl reads it at run time.

export const PARAM_TYPES = ['string', 'int', 'bool', 'enum'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

export interface TemplateParam {
  name: string;
  type: ParamType;
  /** enum: the values allowed. */
  values?: string[];
  /** As text, already checked against the type. */
  default?: string;
  /** True when the param has no default. */
  required: boolean;
}

/** A definition as given: `required` follows from `default`, whatever it says. */
export type TemplateParamInput = Omit<TemplateParam, 'required'> & { required?: boolean };

export const PARAM_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,63}$';
const NAME = new RegExp(PARAM_NAME_PATTERN);
const INT = /^-?[0-9]{1,15}$/;
const BOOLS: Record<string, 'true' | 'false'> = { true: 'true', false: 'false', yes: 'true', no: 'false', '1': 'true', '0': 'false' };
const ENUM_VALUE = /^[A-Za-z0-9_.:@/-]{1,128}$/;

export const ENV_PREFIX = 'OPS_PARAM_';

/** A parameter or its value is wrong; the message names the parameter. */
export class TemplateParamError extends Error {}

export const paramEnvName = (name: string): string => `${ENV_PREFIX}${name.toUpperCase()}`;

/** `name:type[=default]`, the way `templates create --param` writes it (and `show` prints it). */
export function formatParam(p: TemplateParam): string {
  const type = p.type === 'enum' ? `enum(${(p.values ?? []).join(',')})` : p.type;
  return `${p.name}:${type}${p.default !== undefined ? `=${p.default}` : ''}`;
}

/** Parses `name`, `name:int`, `count:int=3`, `env:enum(prod,staging)=staging`; a bare name is a required string. */
export function parseParamSpec(spec: string): TemplateParam {
  const m = /^([^:=]*)(?::(enum\([^)]*\)|[^=]*))?(?:=(.*))?$/s.exec(spec);
  if (!m) throw new TemplateParamError(`parameter "${spec}": use NAME:TYPE[=DEFAULT] with TYPE string, int, bool or enum(a,b,...)`);
  const [, name, typeText = 'string', dflt] = m;
  const enumMatch = /^enum\((.*)\)$/.exec(typeText);
  const type = enumMatch ? 'enum' : typeText;
  if (!(PARAM_TYPES as readonly string[]).includes(type)) {
    throw new TemplateParamError(`parameter ${name}: unknown type "${typeText}" (use string, int, bool or enum(a,b,...))`);
  }
  const param: TemplateParam = { name, type: type as ParamType, required: dflt === undefined };
  if (enumMatch) param.values = enumMatch[1].split(',').map((v) => v.trim());
  if (dflt !== undefined) param.default = dflt;
  return checkParamDefinition(param);
}

/** A definition as stored: valid name, enum values, a default of the right type (normalised). */
export function checkParamDefinition(p: TemplateParamInput): TemplateParam {
  if (!NAME.test(p.name)) throw new TemplateParamError(`parameter "${p.name}": a name is letters, digits and _ (not starting with a digit), at most 64`);
  const out: TemplateParam = { name: p.name, type: p.type, required: p.default === undefined };
  if (p.type === 'enum') {
    const values = p.values ?? [];
    if (values.length === 0 || values.some((v) => !ENUM_VALUE.test(v))) {
      throw new TemplateParamError(`parameter ${p.name}: enum values are 1 to 128 letters, digits and _ . : @ / -, e.g. enum(prod,staging)`);
    }
    if (new Set(values).size !== values.length) throw new TemplateParamError(`parameter ${p.name}: an enum value is listed twice`);
    out.values = [...values];
  } else if (p.values !== undefined) {
    throw new TemplateParamError(`parameter ${p.name}: only enum parameters list values`);
  }
  if (p.default !== undefined) out.default = convertValue(out, p.default, 'default');
  return out;
}

/** A whole list: each definition checked, and no two names giving the same variable. */
export function checkParamDefinitions(params: TemplateParamInput[]): TemplateParam[] {
  const seen = new Map<string, string>();
  return params.map((p) => {
    const checked = checkParamDefinition(p);
    const env = paramEnvName(p.name);
    const other = seen.get(env);
    if (other !== undefined) throw new TemplateParamError(`parameters ${other} and ${p.name} would both be ${env}: use distinct names`);
    seen.set(env, p.name);
    return checked;
  });
}

/**
 * The environment a run gets from the values given: every parameter, given or defaulted, as
 * OPS_PARAM_<NAME>. An unknown or missing parameter, or a value of the wrong type, is refused.
 */
export function paramEnv(params: TemplateParam[], given: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(paramValues(params, given)).map(([name, value]) => [paramEnvName(name), value]));
}

/** Every parameter's value, given or defaulted, checked and normalised, by parameter name. */
export function paramValues(params: TemplateParam[], given: Record<string, string>): Record<string, string> {
  const known = new Set(params.map((p) => p.name));
  const unknown = Object.keys(given).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    const list = params.length ? params.map((p) => p.name).join(', ') : 'none';
    throw new TemplateParamError(`unknown parameter${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (the template takes: ${list})`);
  }
  const env: Record<string, string> = {};
  for (const p of params) {
    const value = Object.hasOwn(given, p.name) ? convertValue(p, given[p.name], 'value') : p.default;
    if (value === undefined) throw new TemplateParamError(`parameter ${p.name} is required (${formatParam(p)})`);
    env[p.name] = value;
  }
  return env;
}

function convertValue(p: TemplateParam, value: string, what: 'value' | 'default'): string {
  const bad = (expected: string) => new TemplateParamError(`parameter ${p.name}: ${what} "${value}" is not ${expected}`);
  switch (p.type) {
    case 'int':
      if (!INT.test(value.trim())) throw bad('an integer');
      return String(Number(value.trim()));
    case 'bool': {
      const b = BOOLS[value.trim().toLowerCase()];
      if (!b) throw bad('a boolean (true/false, yes/no, 1/0)');
      return b;
    }
    case 'enum':
      if (!(p.values ?? []).includes(value)) throw bad(`one of ${(p.values ?? []).join(', ')}`);
      return value;
    default:
      return value;
  }
}
