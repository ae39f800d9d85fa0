// How nodes look in a terminal and in tab-separated output.
import type { NodeDetail, NodeSummary } from '../../../proto/rest/nodes.js';
import { humanBytes } from '../format.js';
import { dual, renderFields, renderTable, time, type Column, type Field, type RenderContext } from '../output.js';

export const NODE_COLUMNS: Column<NodeSummary>[] = [
  { header: 'NAME', get: (n) => n.name },
  // The machine-readable cell stays the status alone; --json has pendingApproval.
  { header: 'STATUS', get: (n) => (n.pendingApproval ? dual(`${n.status}, key pending approval`, n.status) : n.status) },
  { header: 'OS', get: (n) => n.os },
  { header: 'ADDRESS', get: (n) => n.address },
  { header: 'AGENT', get: (n) => (n.agentVersion ? `${n.agentVersion} (${n.agentStatus})` : n.agentStatus) },
  { header: 'HOSTD', get: (n) => n.hostdVersion },
  { header: 'LAST SEEN', get: (n) => time(n.lastSeenAt) },
];


const pairs = (record: Record<string, string>): string => Object.entries(record).map(([k, v]) => `${k}=${v}`).join(',');
const pct = (n: number): string => `${n.toFixed(1)} %`;

export function renderNode(node: NodeDetail, ctx: RenderContext): string {
  const f = node.facts;
  const sep = ctx.tty ? ', ' : ',';
  const fields: Field[] = [
    { label: 'Name', key: 'name', value: node.name },
    { label: 'Status', key: 'status', value: node.status },
    { label: 'Address', key: 'address', value: node.address },
    { label: 'Hostname', key: 'hostname', value: f?.hostname },
    { label: 'OS', key: 'os', value: f ? `${f.os} (${f.platform})` : node.os },
    { label: 'Kernel', key: 'kernel', value: f?.kernel },
    { label: 'Arch', key: 'arch', value: f?.arch },
    { label: 'CPUs', key: 'cpus', value: f ? dual(`${f.cpus} × ${f.cpuModel}`, f.cpus) : null },
    { label: 'Memory', key: 'memory_bytes', value: f ? dual(humanBytes(f.memoryBytes), f.memoryBytes) : null },
    { label: 'IPs', key: 'ips', value: f ? f.ips.join(ctx.tty ? ', ' : ',') : null },
    { label: 'Labels', key: 'labels', value: pairs(node.labels) },
    { label: 'Host labels', key: 'host_labels', value: pairs(node.hostLabels ?? {}) },
    { label: 'Groups', key: 'groups', value: node.groups.join(',') },
    { label: 'Agent', key: 'agent_version', value: node.agentVersion },
    { label: 'Agent status', key: 'agent_status', value: node.agentStatus },
    { label: 'Task kinds', key: 'task_kinds', value: f?.agent ? f.agent.taskKinds.join(sep) : null },
    { label: 'Interpreters', key: 'interpreters', value: f?.agent ? f.agent.interpreters.join(sep) : null },
    { label: 'Service manager', key: 'service_manager', value: f?.agent?.serviceManager },
    { label: 'Plugins', key: 'plugins', value: f?.agent ? f.agent.plugins.join(sep) : null },
    { label: 'Hostd', key: 'hostd_version', value: node.hostdVersion },
    { label: 'Last seen', key: 'last_seen', value: time(node.lastSeenAt) },
    { label: 'Enrolled', key: 'enrolled', value: time(node.enrolledAt) },
    { label: 'Certificate expires', key: 'certificate_expires', value: time(node.certificateExpiresAt) },
  ];
  const p = node.pendingEnrollment;
  if (p) {
    fields.push(
      { label: 'Pending key', key: 'pending_key_fingerprint', value: p.keyFingerprint },
      { label: 'Pending from', key: 'pending_address', value: p.address },
      { label: 'Pending since', key: 'pending_since', value: time(p.requestedAt) },
      { label: 'Pending', key: 'pending_state', value: p.approvedAt ? dual('approved; waiting for the host to collect its certificate', 'approved') : dual(`opsctl nodes approve ${node.name} (or deny)`, 'waiting') },
    );
  }
  const m = node.metrics;
  if (m) {
    fields.push(
      { label: 'Metrics at', key: 'metrics_at', value: time(m.at) },
      { label: 'CPU', key: 'cpu_percent', value: dual(pct(m.cpuPercent), m.cpuPercent) },
      { label: 'Memory used', key: 'mem_used_bytes', value: dual(`${humanBytes(m.memUsedBytes)} of ${humanBytes(m.memTotalBytes)}`, m.memUsedBytes) },
      { label: 'Load', key: 'load', value: dual(`${m.load1.toFixed(2)} ${m.load5.toFixed(2)} ${m.load15.toFixed(2)}`, `${m.load1} ${m.load5} ${m.load15}`) },
      ...m.disks.map((d): Field => ({
        label: `Disk ${d.mount}`,
        key: `disk_used_bytes:${d.mount}`,
        value: dual(`${humanBytes(d.usedBytes)} of ${humanBytes(d.sizeBytes)}`, d.usedBytes),
      })),
      { label: 'Network', key: 'net_rx_tx_bytes', value: dual(`rx ${humanBytes(m.netRxBytes)}, tx ${humanBytes(m.netTxBytes)}`, `${m.netRxBytes} ${m.netTxBytes}`) },
    );
  }
  return renderFields(fields, ctx);
}
