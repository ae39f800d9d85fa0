import { Args, Flags } from '@oclif/core';
import type { TemplateView } from '../../../proto/rest/templates.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderTemplate } from '../../lib/templates/render.js';

export default class TemplatesShow extends DataCommand {
  static override summary = 'Show a template: its script, parameters and versions.';
  static override description = 'Show the latest version of a template (or --version N): its parameters with the variables the script reads them from, ' +
    'the schedules that run it, every version, and the script. Piped, only the header fields; the script is in --json.';
  static override examples = [
    '<%= config.bin %> templates show deploy',
    '<%= config.bin %> templates show deploy --version 1 --json',
  ];
  static override args = {
    name: Args.string({ description: 'Template name', required: true }),
  };
  static override flags = {
    version: Flags.integer({ description: 'Show this version (default: the latest).', min: 1, helpValue: 'N' }),
  };

  async run(): Promise<TemplateView> {
    const { args, flags } = await this.parse(TemplatesShow);
    const api = await this.api(flags.server);
    const template = await api.get<TemplateView>(`/templates/${encodeURIComponent(args.name)}${flags.version !== undefined ? `?version=${flags.version}` : ''}`);
    await this.print(template, flags, (ctx) => renderTemplate(template, ctx));
    return template;
  }
}
