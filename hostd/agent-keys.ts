// The keys file agentd verifies hostd's requests with: {"keys": {"hostd": "<64 hex>"}}, mode 0600.
// Written once; later starts reuse the key (a running, adopted agentd already knows it). Other key
// ids an operator added (e.g. for opsctl's serverless mode) are kept.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

export const HOSTD_KEY_ID = 'hostd';

export function ensureAgentKeys(path: string): string {
  let keys: Record<string, unknown> = {};
  if (existsSync(path)) {
    try {
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as { keys?: unknown };
      if (parsed && typeof parsed.keys === 'object' && parsed.keys !== null && !Array.isArray(parsed.keys)) {
        keys = parsed.keys as Record<string, unknown>;
      } else {
        throw new Error('it must hold {"keys": {...}}');
      }
    } catch (err) {
      throw new Error(`reading the agent keys file ${path}: ${(err as Error).message}`, { cause: err });
    }
    const existing = keys[HOSTD_KEY_ID];
    if (typeof existing === 'string' && /^[0-9a-f]{64}$/.test(existing)) {
      chmodSync(path, 0o600);
      return existing;
    }
  }
  const secret = randomBytes(32).toString('hex');
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify({ keys: { ...keys, [HOSTD_KEY_ID]: secret } }, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return secret;
}
