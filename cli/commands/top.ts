import { Flags } from '@oclif/core';
import { selectorToQuery } from '../../proto/selector.js';
import { DataCommand } from '../lib/base-command.js';
import { renderTable, dual, type Column, type RenderContext } from '../lib/output.js';
import { buildSelector, selectorFlags } from '../lib/tasks/selector.js';
import { livePath, readSnapshot } from '../lib/top/feed.js';
import type { LiveNode } from '../lib/top/live.js';
import { diskPercent, memPercent } from '../lib/top/model.js';

const pct = (v: number | null | undefined) => (v === null || v === undefined ? null : dual(v.toFixed(1), Number(v.toFixed(2))));

/** The --once table: what one snapshot tells (network rates need two samples, so the live view has them). */
const ONCE_COLUMNS: Column<LiveNode>[] = [
  { header: 'NAME', get: (n) => n.name },
  { header: 'STATUS', get: (n) => n.status },
  { header: 'CPU%', get: (n) => pct(n.metrics?.cpuPercent) },
  { header: 'MEM%', get: (n) => pct(n.metrics ? memPercent(n.metrics) : null) },
  { header: 'LOAD', get: (n) => (n.metrics ? dual(n.metrics.load1.toFixed(2), n.metrics.load1) : null) },
  { header: 'DISK%', get: (n) => pct(n.metrics ? diskPercent(n.metrics) : null) },
  { header: 'METRICS AT', get: (n) => (n.metrics ? { time: n.metrics.at } : null) },
];

export function renderOnce(nodes: LiveNode[], ctx: RenderContext): string {
  return renderTable([...nodes].sort((a, b) => a.name.localeCompare(b.name)), ONCE_COLUMNS, ctx);
}

export default class Top extends DataCommand {
  static override summary = 'Watch the fleet live: one row per node with CPU, memory, load, disk and network, refreshed as samples arrive.';
  static override description = 'A full-screen view of the selected nodes (all of them without a selector) fed by the manager\'s live stream: ' +
    'status, CPU %, memory %, 1-minute load, the fullest disk %, network received and sent per second, and a CPU sparkline. ' +
    'It fits 80×24 and redraws when the terminal is resized; with many nodes the table scrolls with the selection.\n\n' +
    'Keys: ↑/↓ (PgUp/PgDn) select a node; Enter opens its detail (every metric over the last 15 minutes and its recent tasks), ' +
    'Esc or Backspace goes back; c, m, l, d, n, s sort by CPU, memory, load, disk, name or status (the same key again reverses), ' +
    '←/→ move the sort column; / filters by part of a name or of a key=value label (Enter keeps the filter, Esc clears it); q or Ctrl-C quits.\n\n' +
    'If the stream drops (network, a manager restart) the status line says so and top reconnects by itself, backing off up to 10 s.\n\n' +
    'With --once, --json, -o, or when stdout (or stdin, for the keys) is not a terminal, top prints one snapshot as a table and exits: tab-separated without a header ' +
    'when piped (name, status, cpu, mem, load, disk, metrics time); --json gives the nodes as the live stream sends them (with their latest metrics). ' +
    'Network rates need two samples, so only the live view shows them.';
  static override usage = 'top [NODE...] [-l SELECTOR] [-g GROUP] [--once] [--json]';
  static override strict = false;
  static override examples = [
    '<%= config.bin %> top',
    "<%= config.bin %> top 'web-*' --label env=prod",
    '<%= config.bin %> top --group db --once',
    '<%= config.bin %> top --once --json --server http://manager.example:8440',
  ];
  static override flags = {
    label: selectorFlags.label,
    group: selectorFlags.group,
    once: Flags.boolean({ description: 'Print one snapshot as a table and exit (the default when stdout is not a terminal).' }),
  };

  async run(): Promise<LiveNode[] | undefined> {
    const { flags, argv } = await this.parse(Top);
    const names = argv as string[];
    const all = names.length === 0 && !flags.label?.length && !flags.group?.length;
    const path = livePath({ ...selectorToQuery(buildSelector(names, { ...flags, all })) });
    const api = await this.api(flags.server);
    const once = flags.once || flags.json || flags.output !== undefined || !this.stdoutIsTty || !process.stdin.isTTY;
    if (once) {
      const nodes = await readSnapshot(api, path);
      await this.print(nodes, flags, (ctx) => renderOnce(nodes, ctx));
      return nodes;
    }
    // Ink and React load only here, so the other commands do not pay for them at start-up. React's
    // development build (the default without NODE_ENV) checks a lot on every render: not for users.
    process.env.NODE_ENV ??= 'production';
    // Ink draws nothing until exit when it thinks it runs in CI (CI or CONTINUOUS_INTEGRATION set,
    // read once as it loads). We are past the terminal checks above, so a person is watching:
    // a shell that exports CI=true must not get a blank screen.
    for (const key of ['CI', 'CONTINUOUS_INTEGRATION']) delete process.env[key];
    const { runTop } = await import('../lib/top/run.js');
    await runTop(api, path);
    return undefined;
  }
}
