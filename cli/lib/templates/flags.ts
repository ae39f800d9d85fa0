// The flags `templates create` and `templates update` share, and the request body they make: the
// script from a file (interpreter from --interpreter or its #! line, as `tasks run --script`), or
// a plugin (--plugin) or a service action (--service with --action) instead; the parameters from
// --param NAME:TYPE[=DEFAULT], checked here with the manager's own rules.
import { Flags } from '@oclif/core';
import { SERVICE_ACTIONS } from '../../../proto/agent-api.js';
import { INTERPRETER_NAMES } from '../../../proto/interpreters.js';
import type { Interpreter } from '../../../proto/rest/tasks.js';
import type { UpdateTemplateRequest } from '../../../proto/rest/templates.js';
import { checkParamDefinitions, parseParamSpec, TemplateParamError } from '../../../proto/template-params.js';
import { UsageError } from '../errors.js';
import { readScriptFile, shebangInterpreter } from '../tasks/script-file.js';

export const templateFlags = {
  script: Flags.string({ description: 'The script file (read now; the template keeps its text).', helpValue: 'FILE', exclusive: ['plugin', 'service'] }),
  plugin: Flags.string({
    description: 'Run this agentd plugin instead of a script; the parameters become the plugin\'s parameters.', helpValue: 'NAME', exclusive: ['service'],
  }),
  service: Flags.string({ description: 'Start, stop, restart or check this service instead (with --action); takes no parameters.', helpValue: 'NAME' }),
  action: Flags.option({ options: SERVICE_ACTIONS, description: 'With --service: what to do to it.' })(),
  interpreter: Flags.option({ options: INTERPRETER_NAMES, description: 'Interpreter of the script (default: its #! line, else sh).' })(),
  param: Flags.string({
    description: 'A parameter, NAME:TYPE[=DEFAULT] with TYPE string, int, bool or enum(a,b,...); without a default it is required (repeatable). ' +
      'The script reads it as $OPS_PARAM_<NAME>.',
    multiple: true, multipleNonGreedy: true, helpValue: 'NAME:TYPE[=DEFAULT]',
  }),
  description: Flags.string({ description: 'What the template does.', helpValue: 'TEXT' }),
};

export interface TemplateFlags {
  script?: string; interpreter?: string; param?: string[]; description?: string; plugin?: string; service?: string; action?: string;
}

/** The fields the flags give; left out, update keeps the latest version's. */
export async function templateBody(flags: TemplateFlags): Promise<UpdateTemplateRequest> {
  const body: UpdateTemplateRequest = {};
  if (flags.script !== undefined) {
    body.script = await readScriptFile(flags.script);
    const interpreter = flags.interpreter ?? shebangInterpreter(body.script);
    if (interpreter) body.interpreter = interpreter as Interpreter;
  } else if (flags.interpreter !== undefined) {
    body.interpreter = flags.interpreter as Interpreter;
  }
  if (flags.plugin !== undefined) Object.assign(body, { kind: 'plugin', plugin: { name: flags.plugin } });
  if ((flags.service === undefined) !== (flags.action === undefined)) throw new UsageError('--service NAME and --action ACTION go together');
  if (flags.service !== undefined) Object.assign(body, { kind: 'service', service: { name: flags.service, action: flags.action } });
  if (flags.param !== undefined) {
    try {
      body.params = checkParamDefinitions(flags.param.map(parseParamSpec));
    } catch (err) {
      if (err instanceof TemplateParamError) throw new UsageError(`--param ${err.message}`);
      throw err;
    }
  }
  if (flags.description !== undefined) body.description = flags.description;
  return body;
}
