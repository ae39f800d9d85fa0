import type { TemplateSummary } from '../../../proto/rest/templates.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderTemplateList } from '../../lib/templates/render.js';

export default class TemplatesList extends DataCommand {
  static override summary = 'List templates.';
  static override description = 'List the stored templates with their latest version, interpreter and parameters (NAME:TYPE[=DEFAULT]).';
  static override aliases = ['templates:ls'];
  static override examples = [
    '<%= config.bin %> templates',
    '<%= config.bin %> templates ls --json',
  ];

  async run(): Promise<TemplateSummary[]> {
    const { flags } = await this.parse(TemplatesList);
    const api = await this.api(flags.server);
    const templates = await api.get<TemplateSummary[]>('/templates');
    await this.print(templates, flags, (ctx) => {
      if (templates.length === 0 && ctx.tty) this.note('No templates yet: store one with `opsctl templates create NAME --script FILE`.');
      return renderTemplateList(templates, ctx);
    });
    return templates;
  }
}
