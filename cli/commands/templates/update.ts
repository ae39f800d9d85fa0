import { Args } from '@oclif/core';
import type { TemplateView } from '../../../proto/rest/templates.js';
import { DataCommand } from '../../lib/base-command.js';
import { UsageError } from '../../lib/errors.js';
import { templateBody, templateFlags } from '../../lib/templates/flags.js';
import { renderTemplate } from '../../lib/templates/render.js';

export default class TemplatesUpdate extends DataCommand {
  static override summary = 'Change a template: adds a version, which becomes the latest.';
  static override description = 'Add a version to a template. What you give replaces the latest version\'s (--param replaces the whole parameter ' +
    'list); what you leave out is kept. Earlier versions stay as they were: tasks record the version they ran, and ' +
    'opsctl tasks run --template NAME --template-version N still runs an old one.';
  static override examples = [
    '<%= config.bin %> templates update deploy --script ./deploy.sh',
    "<%= config.bin %> templates update deploy --param 'env:enum(prod,staging,dev)' --param count:int=5",
  ];
  static override args = {
    name: Args.string({ description: 'Template name', required: true }),
  };
  static override flags = { ...templateFlags };

  async run(): Promise<TemplateView> {
    const { args, flags } = await this.parse(TemplatesUpdate);
    const body = await templateBody(flags);
    if (Object.keys(body).length === 0) throw new UsageError('nothing to change: give --script, --plugin, --service, --interpreter, --param or --description');
    const api = await this.api(flags.server);
    const template = await api.post<TemplateView>(`/templates/${encodeURIComponent(args.name)}/versions`, body);
    this.note(`Template ${template.name} is now at version ${template.latestVersion}.`);
    // The template itself for scripts (--json, -o yaml); people got the line above.
    if (this.outputFormat(flags) !== 'table') await this.print(template, flags, (ctx) => renderTemplate(template, ctx));
    return template;
  }
}
