// The node's identity, issued at enrollment and kept in the data directory:
//   node.key (0600)  the private key, generated here and never sent anywhere
//   node.crt         the client certificate the manager's CA signed
//   ca.crt           the manager's CA, the only root trusted for the host link
//   node.json        node id, name and the manager address it enrolled with
// and, only for a moment while a renewed certificate is written:
//   renew.key (0600) + renew.crt   the new pair, complete before node.key/node.crt are replaced,
//                                  so a crash leaves either the old pair or a pair to finish with
// and, while enrollment waits for an operator:
//   enroll.key (0600)  the key the pending request is for, kept so a restart asks with the same key
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
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
  finishRenewal(dataDir);
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

/** True when the certificate certifies this private key. */
export function pairMatches(keyPem: string, certPem: string): boolean {
  try {
    return new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

/**
 * Replaces the key pair with a renewed one: the new pair is written whole beside the old
 * (renew.key, renew.crt) before node.key and node.crt are replaced one by one, and removed last;
 * readIdentity finishes an interrupted replacement or drops an incomplete new pair.
 */
export function saveRenewedPair(dataDir: string, keyPem: string, certPem: string): void {
  const staged = stagedPaths(dataDir);
  writeFileAtomicSync(staged.key, keyPem, 0o600);
  writeFileAtomicSync(staged.cert, certPem, 0o644);
  finishRenewal(dataDir);
}

function stagedPaths(dataDir: string): { key: string; cert: string } {
  return { key: join(dataDir, 'renew.key'), cert: join(dataDir, 'renew.crt') };
}

function finishRenewal(dataDir: string): void {
  const staged = stagedPaths(dataDir);
  if (!existsSync(staged.key) && !existsSync(staged.cert)) return;
  const keyPem = existsSync(staged.key) ? readFileSync(staged.key, 'utf8') : '';
  const certPem = existsSync(staged.cert) ? readFileSync(staged.cert, 'utf8') : '';
  // Both staged files are written before node.* is touched: a pair that does not match means the
  // crash came before that, and the old pair is whole.
  if (keyPem && certPem && pairMatches(keyPem, certPem)) {
    const paths = identityPaths(dataDir);
    writeFileAtomicSync(paths['node.key'], keyPem, 0o600);
    writeFileAtomicSync(paths['node.crt'], certPem, 0o644);
  }
  rmSync(staged.cert, { force: true });
  rmSync(staged.key, { force: true });
}

/** The key a held enrollment request is for (created on first use), so a restart asks again with the same key. */
export function enrollmentKey(dataDir: string, create: () => string): string {
  const path = join(dataDir, 'enroll.key');
  if (existsSync(path)) return readFileSync(path, 'utf8');
  const keyPem = create();
  writeFileAtomicSync(path, keyPem, 0o600);
  return keyPem;
}

export function forgetEnrollmentKey(dataDir: string): void {
  rmSync(join(dataDir, 'enroll.key'), { force: true });
}
