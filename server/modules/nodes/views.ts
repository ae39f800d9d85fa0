import type { MetricsSample__Output } from '../../../proto/hostlink.js';
import type { LiveNode } from '../../../proto/rest/live.js';
import type { Metrics, NodeDetail, NodeSummary } from '../../../proto/rest/nodes.js';
import type { Node } from './node.entity.js';

export function toNodeSummary(node: Node): NodeSummary {
  return {
    id: node.id,
    name: node.name,
    status: node.status,
    os: node.facts?.os ?? '',
    address: node.address,
    agentVersion: node.agentVersion,
    agentStatus: node.agentStatus,
    hostdVersion: node.hostdVersion,
    labels: node.labels ?? {},
    hostLabels: node.hostLabels ?? {},
    groups: node.groups ?? [],
    lastSeenAt: node.lastSeenAt ? node.lastSeenAt.toISOString() : null,
    enrolledAt: node.enrolledAt.toISOString(),
    pendingApproval: node.pendingKeyFingerprint !== null && node.pendingKeyFingerprint !== undefined,
  };
}

export function toNodeDetail(node: Node): NodeDetail {
  return {
    ...toNodeSummary(node),
    facts: node.facts,
    metrics: node.metrics,
    certificateExpiresAt: node.certExpiresAt ? node.certExpiresAt.toISOString() : null,
    pendingEnrollment: node.pendingKeyFingerprint ? {
      keyFingerprint: node.pendingKeyFingerprint,
      address: node.pendingAddress ?? '',
      requestedAt: (node.pendingSince ?? new Date(0)).toISOString(),
      approvedAt: node.pendingApprovedAt ? node.pendingApprovedAt.toISOString() : null,
    } : null,
  };
}

export function toLiveNode(node: Node): LiveNode {
  return { ...toNodeSummary(node), metrics: node.metrics };
}

export function toMetrics(sample: MetricsSample__Output): Metrics {
  return {
    at: new Date(sample.atMs || Date.now()).toISOString(),
    cpuPercent: sample.cpuPercent,
    memUsedBytes: sample.memUsedBytes,
    memTotalBytes: sample.memTotalBytes,
    load1: sample.load1,
    load5: sample.load5,
    load15: sample.load15,
    disks: (sample.disks ?? []).map((d) => ({ mount: d.mount, sizeBytes: d.sizeBytes, usedBytes: d.usedBytes })),
    netRxBytes: sample.netRxBytes,
    netTxBytes: sample.netTxBytes,
  };
}
