// The node's identity, issued at enrollment and kept in the data directory:
//   node.key (0600)  the private key, generated here and never sent anywhere
//   node.crt         the client certificate the manager's CA signed
//   ca.crt           the manager's CA, the only root trusted for the host link
//   node.json        node id, name and the manager address it enrolled with
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../lib/atomic-write.js';

export interface NodeIdentity {
  nodeId: string;
  nodeName: string;
  managerAddress: string;
  enrolledAt: string;
  keyPem: string;
  certPem: string;
  caPem: string;
}

const FILES = ['node.key', 'node.crt', 'ca.crt', 'node.json'] as const;

export function identityPaths(dataDir: string): Record<(typeof FILES)[number], string> {
  return Object.fromEntries(FILES.map((f) => [f, join(dataDir, f)])) as Record<(typeof FILES)[number], string>;
}

/** The saved identity; undefined when none of its files exist; an error when only some do. */
export function readIdentity(dataDir: string): NodeIdentity | undefined {
  const paths = identityPaths(dataDir);
  const present = FILES.filter((f) => existsSync(paths[f]));
  if (present.length === 0) return undefined;
  if (present.length < FILES.length) {
    const missing = FILES.filter((f) => !present.includes(f));
    throw new Error(`incomplete identity in ${dataDir}: ${missing.join(', ')} missing (remove ${present.join(', ')} and enroll again with --token)`);
  }
  try {
    const meta = JSON.parse(readFileSync(paths['node.json'], 'utf8')) as Partial<NodeIdentity>;
    if (typeof meta.nodeId !== 'string' || !meta.nodeId) throw new Error('node.json has no nodeId');
    return {
      nodeId: meta.nodeId,
      nodeName: String(meta.nodeName ?? ''),
      managerAddress: String(meta.managerAddress ?? ''),
      enrolledAt: String(meta.enrolledAt ?? ''),
      keyPem: readFileSync(paths['node.key'], 'utf8'),
      certPem: readFileSync(paths['node.crt'], 'utf8'),
      caPem: readFileSync(paths['ca.crt'], 'utf8'),
    };
  } catch (err) {
    throw new Error(`reading the node identity in ${dataDir}: ${(err as Error).message}`, { cause: err });
  }
}

/** Writes the identity; node.json last, so a crash half-way leaves an identity readIdentity rejects. */
export function saveIdentity(dataDir: string, id: NodeIdentity): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const paths = identityPaths(dataDir);
  writeFileAtomicSync(paths['node.key'], id.keyPem, 0o600);
  writeFileAtomicSync(paths['node.crt'], id.certPem, 0o644);
  writeFileAtomicSync(paths['ca.crt'], id.caPem, 0o644);
  const meta = { nodeId: id.nodeId, nodeName: id.nodeName, managerAddress: id.managerAddress, enrolledAt: id.enrolledAt };
  writeFileAtomicSync(paths['node.json'], JSON.stringify(meta, null, 2) + '\n', 0o644);
}
