// `tasks run --plugin NAME -p KEY=VALUE …`: the request for a task of kind `plugin`. Parameters
// travel as text; the node's agentd converts them to the types the plugin declares and refuses
// unknown or missing ones, since only it knows the plugin. Flags that belong to commands and
// scripts are refused here rather than silently dropped.
import { PLUGIN_NAME_PATTERN, PLUGIN_PARAM_PATTERN } from '../../../proto/agent-api.js';
import type { CreateTaskRequest } from '../../../proto/rest/tasks.js';
import { UsageError } from '../errors.js';

export interface PluginFlags {
  plugin?: string;
  param?: string[];
  script?: string;
  interpreter?: string;
  env?: string[];
  'secret-env'?: string[];
}

/** True when the command line asks for a plugin (either flag), so pluginTask judges the rest. */
export const wantsPlugin = (flags: PluginFlags): boolean => flags.plugin !== undefined || flags.param !== undefined;

/** The kind part of the request: `{kind: 'plugin', plugin: {name, params}}`. */
export function pluginTask(flags: PluginFlags, commandWords: string[]): Pick<CreateTaskRequest, 'kind' | 'plugin'> {
  const name = flags.plugin;
  if (name === undefined) throw new UsageError('-p/--param gives a plugin its parameters: name the plugin with --plugin NAME');
  if (commandWords.length > 0) throw new UsageError('--plugin runs a plugin, not a command: drop the command after --');
  if (flags.script !== undefined) throw new UsageError('give either --plugin NAME or --script FILE, not both');
  if (flags.interpreter !== undefined) throw new UsageError('--interpreter is for commands and scripts, not --plugin');
  if (flags.env !== undefined || flags['secret-env'] !== undefined) {
    throw new UsageError('--env and --secret-env are for commands and scripts: give a plugin its parameters with -p KEY=VALUE');
  }
  if (!new RegExp(PLUGIN_NAME_PATTERN).test(name)) {
    throw new UsageError(`--plugin "${name}": a plugin name is lower case letters, digits and dashes (see 'opsctl plugins ls')`);
  }
  const params = parseParamPairs(flags.param ?? []);
  return { kind: 'plugin', plugin: { name, ...(Object.keys(params).length > 0 ? { params } : {}) } };
}

/** -p KEY=VALUE pairs (plugins' and templates' parameters) to a record; a key given twice is refused. */
export function parseParamPairs(pairs: string[]): Record<string, string> {
  const params: Record<string, string> = {};
  const keyPattern = new RegExp(PLUGIN_PARAM_PATTERN);
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (eq < 0 || !keyPattern.test(key)) throw new UsageError(`-p "${pair}": use KEY=VALUE, KEY made of letters, digits and _ (not starting with a digit)`);
    if (Object.hasOwn(params, key)) throw new UsageError(`-p ${key} is given twice`);
    params[key] = pair.slice(eq + 1);
  }
  return params;
}
