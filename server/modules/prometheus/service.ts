// What GET /metrics reports: each node's latest sample (nodes.metrics, no history query), node and
// task counts by status, and this manager process. Read on every scrape; nothing is kept between.
import { effectiveLabels } from '../../../proto/labels.js';
import type { Metrics } from '../../../proto/rest/nodes.js';
import type { Orm } from '../../db/orm.js';
import { Node } from '../nodes/node.entity.js';
import { nodeLabelName, renderExposition, type Family, type Labels, type Sample } from './exposition.js';

/** `node` first, then the node's effective labels (host's overlaid by operator's) (a later label whose sanitised name repeats one is dropped). */
function labelsOf(node: Node): Labels {
  const labels: Labels = { node: node.name };
  for (const [key, value] of Object.entries(effectiveLabels(node))) {
    const name = nodeLabelName(key);
    if (!(name in labels)) labels[name] = value;
  }
  return labels;
}

function gauge(name: string, help: string, samples: Sample[]): Family { return { name, help, type: 'gauge', samples }; }
function counter(name: string, help: string, samples: Sample[]): Family { return { name, help, type: 'counter', samples }; }

function nodeFamilies(nodes: Node[]): Family[] {
  const sampled = nodes.filter((n) => n.metrics).map((n) => ({ labels: labelsOf(n), m: n.metrics as Metrics }));
  const each = (value: (m: Metrics) => number): Sample[] => sampled.map(({ labels, m }) => ({ labels, value: value(m) }));
  const perDisk = (value: (d: Metrics['disks'][number]) => number): Sample[] =>
    sampled.flatMap(({ labels, m }) => m.disks.map((d) => ({ labels: { ...labels, mount: d.mount }, value: value(d) })));
  return [
    gauge('opsctl_node_cpu_percent', 'CPU busy percent in the latest sample.', each((m) => m.cpuPercent)),
    gauge('opsctl_node_memory_used_bytes', 'Memory in use.', each((m) => m.memUsedBytes)),
    gauge('opsctl_node_memory_total_bytes', 'Memory installed.', each((m) => m.memTotalBytes)),
    gauge('opsctl_node_load1', 'Load average over 1 minute.', each((m) => m.load1)),
    gauge('opsctl_node_load5', 'Load average over 5 minutes.', each((m) => m.load5)),
    gauge('opsctl_node_load15', 'Load average over 15 minutes.', each((m) => m.load15)),
    gauge('opsctl_node_disk_used_bytes', 'Bytes used on the mount.', perDisk((d) => d.usedBytes)),
    gauge('opsctl_node_disk_size_bytes', 'Size of the mount.', perDisk((d) => d.sizeBytes)),
    counter('opsctl_node_network_receive_bytes_total', 'Bytes received on all interfaces (resets when the host restarts).', each((m) => m.netRxBytes)),
    counter('opsctl_node_network_transmit_bytes_total', 'Bytes sent on all interfaces (resets when the host restarts).', each((m) => m.netTxBytes)),
    gauge('opsctl_node_sample_timestamp_seconds', 'When the latest sample was taken (Unix time).', each((m) => Date.parse(m.at) / 1000)),
  ];
}

const NODE_STATUSES = ['online', 'degraded', 'offline'];
const TASK_STATUSES = ['running', 'succeeded', 'failed', 'cancelled'];

/** Every known status (0 when none), so a series does not vanish when its count drops to zero. */
function byStatus(known: string[], counts: Map<string, number>): Sample[] {
  const statuses = [...new Set([...known, ...counts.keys()])];
  return statuses.map((status) => ({ labels: { status }, value: counts.get(status) ?? 0 }));
}

async function taskCounts(orm: Orm): Promise<Map<string, number>> {
  const rows: { status: string; n: number | string }[] = await orm.em.fork().getConnection()
    .execute('select status, count(*) as n from tasks group by status');
  return new Map(rows.map((r) => [r.status, Number(r.n)]));
}

function processFamilies(): Family[] {
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  const startSeconds = Math.round((Date.now() / 1000 - process.uptime()) * 1000) / 1000;
  return [
    counter('process_cpu_seconds_total', 'User and system CPU time of the manager process.', [{ labels: {}, value: (cpu.user + cpu.system) / 1e6 }]),
    gauge('process_resident_memory_bytes', 'Resident memory of the manager process.', [{ labels: {}, value: memory.rss }]),
    gauge('process_start_time_seconds', 'When the manager process started (Unix time).', [{ labels: {}, value: startSeconds }]),
    gauge('nodejs_heap_used_bytes', 'V8 heap in use.', [{ labels: {}, value: memory.heapUsed }]),
  ];
}

export class PrometheusService {
  constructor(private readonly orm: Orm) {}

  /** The body of one scrape. */
  async exposition(): Promise<string> {
    return renderExposition(await this.families());
  }

  private async families(): Promise<Family[]> {
    const nodes = await this.orm.em.fork().find(Node, {}, { orderBy: { name: 'asc' } });
    const nodeCounts = new Map<string, number>();
    for (const n of nodes) nodeCounts.set(n.status, (nodeCounts.get(n.status) ?? 0) + 1);
    return [
      ...nodeFamilies(nodes),
      gauge('opsctl_nodes', 'Enrolled nodes by status.', byStatus(NODE_STATUSES, nodeCounts)),
      gauge('opsctl_tasks', 'Tasks by status.', byStatus(TASK_STATUSES, await taskCounts(this.orm))),
      ...processFamilies(),
    ];
  }
}
