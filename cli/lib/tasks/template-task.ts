// `tasks run --template NAME -p KEY=VALUE …`: the request for a stored template. The manager
// checks the values against the template's typed parameters and hands them to the script as
// OPS_PARAM_<KEY>; the script, its interpreter and kind come from the template, so the flags that
// would give them are refused here rather than silently dropped.
import type { CreateTaskRequest } from '../../../proto/rest/tasks.js';
import { UsageError } from '../errors.js';
import { taskEnv } from './env.js';
import { parseParamPairs } from './plugin-task.js';

export interface TemplateTaskFlags {
  template?: string;
  'template-version'?: number;
  param?: string[];
  plugin?: string;
  script?: string;
  interpreter?: string;
  env?: string[];
  'secret-env'?: string[];
  inventory?: string;
}

export function templateTask(flags: TemplateTaskFlags, commandWords: string[]): Pick<CreateTaskRequest, 'template' | 'env' | 'secretEnv'> {
  const name = flags.template;
  if (name === undefined) throw new UsageError('--template-version needs --template NAME');
  if (flags.inventory !== undefined) throw new UsageError('--template runs a template stored on the manager: direct mode (--inventory) cannot');
  if (commandWords.length > 0) throw new UsageError('--template runs the template\'s script: drop the command after --');
  for (const flag of ['script', 'interpreter', 'plugin'] as const) {
    if (flags[flag] !== undefined) throw new UsageError(`give either --template or --${flag}, not both (the template has its own script and interpreter)`);
  }
  const params = parseParamPairs(flags.param ?? []);
  return {
    template: { name, ...(flags['template-version'] !== undefined ? { version: flags['template-version'] } : {}), ...(Object.keys(params).length > 0 ? { params } : {}) },
    ...taskEnv(flags.env, flags['secret-env']),
  };
}
