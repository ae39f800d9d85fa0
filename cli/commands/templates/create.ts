import { Args } from '@oclif/core';
import type { CreateTemplateRequest, TemplateView } from '../../../proto/rest/templates.js';
import { DataCommand } from '../../lib/base-command.js';
import { UsageError } from '../../lib/errors.js';
import { templateBody, templateFlags } from '../../lib/templates/flags.js';
import { renderTemplate } from '../../lib/templates/render.js';

export default class TemplatesCreate extends DataCommand {
  static override summary = 'Store a script with typed parameters as a new template.';
  static override description = 'Store a script file as version 1 of a new template. Each --param NAME:TYPE[=DEFAULT] declares a parameter ' +
    '(TYPE string, int, bool or enum(a,b,...); one without a default is required). Run it with opsctl tasks run --template NAME -p NAME=VALUE: ' +
    'the manager checks each value against its type and gives it to the script as the environment variable OPS_PARAM_<NAME> (upper case), never inside the script\'s text.\n\n' +
    'Instead of a script, a template may run an agentd plugin (--plugin NAME: its parameters are then the plugin\'s parameters, checked by type here ' +
    'and by the plugin\'s manifest on the host) or a service action (--service NAME --action ACTION, without parameters).\n\n' +
    'An existing name is refused: change a template with opsctl templates update, which adds a version.';
  static override examples = [
    "<%= config.bin %> templates create deploy --script ./deploy.sh --param 'env:enum(prod,staging)' --param count:int=3 --description 'Roll out the app'",
    '<%= config.bin %> templates create disk-report --script ./report.py --param path:string=/ --param verbose:bool=false',
    '<%= config.bin %> templates create probe --plugin http-probe --param url:string --param timeout:int=5',
    '<%= config.bin %> templates create restart-nginx --service nginx --action restart',
  ];
  static override args = {
    name: Args.string({ description: 'Template name (letters, digits, . _ -)', required: true }),
  };
  static override flags = { ...templateFlags };

  async run(): Promise<TemplateView> {
    const { args, flags } = await this.parse(TemplatesCreate);
    if (flags.script === undefined && flags.plugin === undefined && flags.service === undefined) {
      throw new UsageError('what the template runs is required: --script FILE, --plugin NAME, or --service NAME --action ACTION');
    }
    const body = { name: args.name, ...(await templateBody(flags)) } as CreateTemplateRequest;
    const api = await this.api(flags.server);
    const template = await api.post<TemplateView>('/templates', body);
    this.note(`Created template ${template.name} (version 1, ${template.current.params.length} parameter${template.current.params.length === 1 ? '' : 's'}).`);
    // The template itself for scripts (--json, -o yaml); people got the line above.
    if (this.outputFormat(flags) !== 'table') await this.print(template, flags, (ctx) => renderTemplate(template, ctx));
    return template;
  }
}
