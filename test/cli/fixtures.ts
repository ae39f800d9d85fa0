// Nodes the fake manager serves in the CLI tests.
import type { NodeDetail, NodeSummary } from '../../proto/rest.js';

export const NODES: NodeSummary[] = [
  {
    id: 'n1', name: 'db-1', status: 'degraded', os: 'Debian GNU/Linux 12', address: '10.0.0.21',
    agentVersion: '0.1.0', agentStatus: 'unhealthy', hostdVersion: '0.1.0', labels: { env: 'prod', role: 'db' }, groups: ['db'],
    lastSeenAt: '2025-01-02T03:04:05.000Z', enrolledAt: '2024-12-01T10:00:00.000Z',
  },
  {
    id: 'n2', name: 'web-1', status: 'online', os: 'Ubuntu 24.04 LTS', address: '10.0.0.11',
    agentVersion: '0.1.0', agentStatus: 'healthy', hostdVersion: '0.1.0', labels: { env: 'prod', role: 'web' }, groups: ['web'],
    lastSeenAt: '2025-01-02T03:04:50.123Z', enrolledAt: '2024-12-01T10:00:00.000Z',
  },
  {
    id: 'n3', name: 'web-2', status: 'offline', os: 'Ubuntu 24.04 LTS', address: '',
    agentVersion: '', agentStatus: 'unknown', hostdVersion: '0.0.9', labels: {}, groups: [],
    lastSeenAt: null, enrolledAt: '2024-12-01T10:00:00.000Z',
  },
];

/** The same nodes with times relative to `now`, for the terminal view ("42s ago"). */
export function nodesSeenRecently(now = Date.now()): NodeSummary[] {
  return NODES.map((n, i) => ({ ...n, lastSeenAt: i === 0 ? new Date(now - 42_000).toISOString() : i === 1 ? new Date(now - (3 * 3600 + 300) * 1000).toISOString() : null }));
}

export const WEB_1: NodeDetail = {
  ...NODES[1],
  facts: {
    hostname: 'web-1.example.com', os: 'Ubuntu 24.04 LTS', platform: 'linux', kernel: '6.8.0-45-generic', arch: 'x64',
    cpuModel: 'AMD EPYC 7B13', cpus: 4, memoryBytes: 8254390272, ips: ['10.0.0.11', 'fd00::11'],
  },
  metrics: {
    at: '2025-01-02T03:04:00.000Z', cpuPercent: 12.34, memUsedBytes: 2147483648, memTotalBytes: 8254390272,
    load1: 0.5, load5: 0.25, load15: 0.125, disks: [{ mount: '/', sizeBytes: 53687091200, usedBytes: 10737418240 }],
    netRxBytes: 1048576, netTxBytes: 524288,
  },
  certificateExpiresAt: '2026-01-02T03:04:05.000Z',
};
