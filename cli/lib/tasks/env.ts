// The environment a task's script gets: --env K=V pairs, and --secret-env, whose values are stored
// encrypted and masked everywhere. `--secret-env K` alone takes the value from opsctl's own
// environment, so the secret never shows in the process list.
import { UsageError } from '../errors.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NAME_RULE = 'NAME made of letters, digits and _';

/** --env K=V pairs (repeatable) to a record; later pairs win. */
export function parseEnvPairs(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (eq < 0 || !ENV_NAME.test(key)) throw new UsageError(`--env "${pair}": use NAME=value with ${NAME_RULE}`);
    env[key] = pair.slice(eq + 1);
  }
  return env;
}

/** --secret-env K=V or K (the value of $K in `from`); the error never repeats a value. */
export function parseSecretEnv(items: string[], from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    if (!ENV_NAME.test(key)) throw new UsageError(`--secret-env "${key}": use NAME=value or NAME, with ${NAME_RULE}`);
    if (eq >= 0) {
      env[key] = item.slice(eq + 1);
      continue;
    }
    const value = from[key];
    if (value === undefined) throw new UsageError(`--secret-env ${key}: $${key} is not set in opsctl's environment (export it, or give ${key}=value)`);
    env[key] = value;
  }
  return env;
}

/** Both maps for the request body; a name given both ways is a mistake, not a silent override. */
export function taskEnv(envFlags: string[] | undefined, secretFlags: string[] | undefined): { env?: Record<string, string>; secretEnv?: Record<string, string> } {
  const out: { env?: Record<string, string>; secretEnv?: Record<string, string> } = {};
  if (envFlags?.length) out.env = parseEnvPairs(envFlags);
  if (secretFlags?.length) out.secretEnv = parseSecretEnv(secretFlags);
  const both = Object.keys(out.secretEnv ?? {}).filter((k) => Object.hasOwn(out.env ?? {}, k));
  if (both.length > 0) throw new UsageError(`${both.join(', ')}: given with both --env and --secret-env; use one`);
  return out;
}
