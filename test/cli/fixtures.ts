// The nodes of the CLI tests, made real on the real manager: each is enrolled and reports through
// the manager's host-link backend what its hostd would (facts, versions, agent health, metrics).
// Groups are made through the groups service; labels and the clocks (pinned so the golden files
// hold exact times) are written to the manager's database, as an operator's tooling would.
import type { HostHello } from '../../server/hostlink/contract.js';
import { systemPrincipal } from '../../server/access/principal.js';
import { Node } from '../../server/modules/nodes/node.entity.js';
import { connectHost, enrollHost, type TestManager } from './manager.js';

const ENROLLED_AT = new Date('2024-12-01T10:00:00.000Z');
const CERT_EXPIRES_AT = new Date('2026-01-02T03:04:05.000Z');

function hello(hostname: string, os: string, agentStatus: string, ip: string): HostHello {
  return {
    facts: { hostname, os, platform: 'linux', kernel: '6.8.0-45-generic', arch: 'x64', cpuModel: 'AMD EPYC 7B13', cpus: 4, memoryBytes: 8254390272, ips: [ip, 'fd00::11'] },
    hostdVersion: '0.1.0', agentVersion: '0.1.0', agentStatus, knownRuns: null,
    capabilities: { taskKinds: ['script', 'file', 'service', 'plugin'], interpreters: ['sh', 'bash', 'python'], serviceManager: 'systemd', plugins: ['http-probe@1.0.0'] },
  };
}

export const WEB_1_METRICS = {
  atMs: Date.parse('2025-01-02T03:04:00.000Z'), cpuPercent: 12.34, memUsedBytes: 2147483648, memTotalBytes: 8254390272,
  load1: 0.5, load5: 0.25, load15: 0.125, disks: [{ mount: '/', sizeBytes: 53687091200, usedBytes: 10737418240 }],
  netRxBytes: 1048576, netTxBytes: 524288,
};

export interface SeededNodes {
  /** Node name → the id the manager gave it. */
  ids: Record<string, string>;
  /** Sets lastSeenAt of db-1 and web-1 (web-2 has never connected). */
  pinLastSeen(db1: Date, web1: Date): Promise<void>;
}

/**
 * db-1: connected, agent unhealthy (degraded); web-1: connected, healthy, with metrics (online);
 * web-2: enrolled but its hostd never connected (offline, never seen, no facts).
 */
export async function seedNodes(m: TestManager): Promise<SeededNodes> {
  const hostLink = m.manager.services.hostLink;
  const ids: Record<string, string> = {};
  ids['db-1'] = await enrollHost(m, 'db-1', '10.0.0.21', CERT_EXPIRES_AT);
  await connectHost(m, ids['db-1'], 'db-1', '10.0.0.21', { ...hello('db-1.example.com', 'Debian GNU/Linux 12', 'unhealthy', '10.0.0.21') });
  ids['web-1'] = await enrollHost(m, 'web-1', '10.0.0.11', CERT_EXPIRES_AT);
  await connectHost(m, ids['web-1'], 'web-1', '10.0.0.11', hello('web-1.example.com', 'Ubuntu 24.04 LTS', 'healthy', '10.0.0.11'));
  await hostLink.onMetrics(ids['web-1'], WEB_1_METRICS);
  // Written behind: stored before lastSeenAt is pinned below, so it cannot overwrite it.
  await m.manager.services.nodes.reports.flush();
  ids['web-2'] = await enrollHost(m, 'web-2', '10.0.0.12', CERT_EXPIRES_AT);

  const em = (await m.db()).em.fork();
  await em.nativeUpdate(Node, { name: 'db-1' }, { labels: { env: 'prod', role: 'db' } });
  await em.nativeUpdate(Node, { name: 'web-1' }, { labels: { env: 'prod', role: 'web' } });
  await seedGroups(m, { db: ['db-1'], web: ['web-1'] });
  await em.nativeUpdate(Node, {}, { enrolledAt: ENROLLED_AT });
  const pinLastSeen = async (db1: Date, web1: Date) => {
    await em.nativeUpdate(Node, { name: 'db-1' }, { lastSeenAt: db1 });
    await em.nativeUpdate(Node, { name: 'web-1' }, { lastSeenAt: web1 });
  };
  await pinLastSeen(new Date('2025-01-02T03:04:05.000Z'), new Date('2025-01-02T03:04:50.123Z'));
  return { ids, pinLastSeen };
}

/** Static groups with their nodes, through the groups service (which keeps nodes.groups). */
export async function seedGroups(m: TestManager, groups: Record<string, string[]>): Promise<void> {
  const service = m.manager.services.groups;
  for (const [name, nodes] of Object.entries(groups)) {
    await service.create(systemPrincipal(), { name });
    if (nodes.length > 0) await service.update(systemPrincipal(), name, { add: nodes });
  }
}

/** Replaces each node's generated id with `<id of NAME>`, so golden files hold no random ids. */
export function withStableIds(text: string, ids: Record<string, string>): string {
  return Object.entries(ids).reduce((t, [name, id]) => t.split(id).join(`<id of ${name}>`), text);
}
