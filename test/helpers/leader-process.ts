// A replica's leader election alone, as its own process (for the pause test: SIGSTOP freezes a
// whole process, timers and all). Prints one JSON line every 50 ms: whether it leads and its token.
import { Redis } from 'ioredis';
import { createLogger } from '../../lib/log.js';
import { RedisLeader } from '../../server/leadership/redis-leader.js';

const [url, prefix, replicaId, leaseMs] = process.argv.slice(2);
const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: false });
const leader = new RedisLeader({ redis, replicaId, prefix, leaseMs: Number(leaseMs), log: createLogger({ component: 'leader-process', level: 'silent' }) });
await leader.start();
setInterval(() => {
  process.stdout.write(`${JSON.stringify({ at: Date.now(), leading: leader.isLeader(), token: leader.fencingToken() ?? null })}\n`);
}, 50);
process.on('SIGTERM', () => { void leader.stop().finally(() => { redis.disconnect(); process.exit(0); }); });
