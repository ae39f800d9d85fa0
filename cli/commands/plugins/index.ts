import { DataCommand } from '../../lib/base-command.js';
import { renderTable } from '../../lib/output.js';
import { inventory, nodeDetails, PLUGIN_COLUMNS, type PluginInventoryRow } from '../../lib/plugins/inventory.js';

export default class PluginsList extends DataCommand {
  static override summary = 'List the executor plugins loaded on the nodes.';
  static override description = 'List every executor plugin the nodes\' agents have loaded (as they last reported it), one line per plugin and version, ' +
    'with the nodes that have it. Run one with `opsctl tasks run --plugin NAME -p KEY=VALUE`.\n\n' +
    'On a terminal the output is a table; piped, it is one tab-separated line per plugin version with the nodes comma-separated and no header. ' +
    'With --json: [{"plugin", "version", "nodes": [...]}].';
  static override aliases = ['plugins:ls'];
  static override examples = [
    '<%= config.bin %> plugins',
    '<%= config.bin %> plugins ls --json',
  ];

  async run(): Promise<PluginInventoryRow[]> {
    const { flags } = await this.parse(PluginsList);
    const api = await this.api(flags.server);
    const rows = inventory(await nodeDetails(api));
    await this.print(rows, flags, (ctx) => {
      if (rows.length === 0 && ctx.tty) this.note('No node reports a plugin: put one in agentd\'s plugins.dir (--plugins-dir) and restart agentd.');
      return renderTable(rows, PLUGIN_COLUMNS, ctx);
    });
    return rows;
  }
}
