import type { ClusterView, ReplicaView } from '../../../proto/rest/cluster.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderTable, time, type Column } from '../../lib/output.js';

const COLUMNS: Column<ReplicaView>[] = [
  { header: 'REPLICA', get: (r) => r.id },
  { header: 'LEADER', get: (r) => (!r.leader ? 'no' : r.leaderToken === null ? 'yes' : `yes (token ${r.leaderToken})`) },
  { header: 'HOSTS', get: (r) => r.hosts },
  { header: 'VERSION', get: (r) => r.version },
  { header: 'GRPC', get: (r) => r.grpc },
  { header: 'STARTED', get: (r) => time(r.startedAt) },
  { header: 'SEEN', get: (r) => time(r.seenAt) },
];

export default class ServerStatus extends DataCommand {
  static override summary = 'Show the manager processes serving this API and which one leads.';
  static override description = 'List the replicas of the manager behind --server (one, unless redis.url is set): each one\'s id (hostname:pid:random), ' +
    'whether it leads (with its fencing token), how many host streams it holds, its version, the gRPC address hosts dial, and when it started and last said it was alive. ' +
    'A replica that stops answering drops out of the list within 10 seconds.';
  static override examples = ['<%= config.bin %> server status', '<%= config.bin %> server status --json'];

  async run(): Promise<ClusterView> {
    const { flags } = await this.parse(ServerStatus);
    const api = await this.api(flags.server);
    const cluster = await api.get<ClusterView>('/cluster');
    await this.print(cluster, flags, (ctx) => {
      const leader = cluster.replicas.find((r) => r.leader);
      const head = ctx.tty ? `${cluster.mode === 'single' ? 'single manager' : `${cluster.replicas.length} replicas (Redis)`}; leader: ${leader?.id ?? 'none right now'}; answered by ${cluster.self}\n` : '';
      return head + renderTable(cluster.replicas, COLUMNS, ctx);
    });
    return cluster;
  }
}
