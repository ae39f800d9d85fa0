import { Args, Flags } from '@oclif/core';
import type { MetricsHistory } from '../../../proto/rest/metrics.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderHistory } from '../../lib/metrics/render.js';

export default class NodesMetrics extends DataCommand {
  static override summary = 'Chart a node\'s metrics history (CPU, memory, load, disk, network).';
  static override description = 'Draw each metric of one node over a span as a terminal chart, with its min, avg and max. '
    + 'The manager answers from raw samples for short spans and steps, else from 1-minute or 1-hour rollups (kept per metrics.*Retention). '
    + '--json gives the points ({at, min, avg, max} per metric).';
  static override examples = [
    '<%= config.bin %> nodes metrics web-1',
    '<%= config.bin %> nodes metrics web-1 --since 7d --metric cpu',
    '<%= config.bin %> nodes metrics web-1 --since 2026-01-02T00:00:00Z --step 5m --json',
  ];
  static override args = {
    name: Args.string({ description: 'Node name', required: true }),
  };
  static override flags = {
    since: Flags.string({ description: 'Start of the span: a duration back from now (90m, 6h, 7d) or an ISO time', default: '6h' }),
    step: Flags.string({ description: 'Point spacing (30s, 5m, 1h); chosen from the span when absent' }),
    metric: Flags.string({ description: 'Only this metric', options: ['cpu', 'mem', 'load1', 'disk', 'netRx', 'netTx'] }),
  };

  async run(): Promise<MetricsHistory> {
    const { args, flags } = await this.parse(NodesMetrics);
    const api = await this.api(flags.server);
    const query = new URLSearchParams({ since: flags.since });
    if (flags.step) query.set('step', flags.step);
    if (flags.metric) query.set('metric', flags.metric);
    const history = await api.get<MetricsHistory>(`/nodes/${encodeURIComponent(args.name)}/metrics?${query}`);
    await this.print(history, flags, (ctx) => renderHistory(history, ctx));
    return history;
  }
}
