// Simulated hosts' identities on disk, small enough that 20,000 load in well under a second:
//   DIR/ca.crt             the manager's CA, trusted by every simulated host
//   DIR/hosts/NAME.json    {name, keyPem} once a key is prepared; + nodeId, certPem, enrolledAt once enrolled
//   DIR/key-pool/K.pem     keys shared by hosts without their own (--key-pool)
// Written whole into a temporary file and renamed, without fsync: a simulator's identities are
// cheap to make again (a lost one is re-enrolled, or held if the manager still knows the name).
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createKeyAsync } from './csr.js';

export interface HostFile {
  name: string;
  keyPem: string;
  nodeId?: string;
  certPem?: string;
  enrolledAt?: string;
  manager?: string;
}

export function hostsDir(dir: string): string { return join(dir, 'hosts'); }
export function caPath(dir: string): string { return join(dir, 'ca.crt'); }

export function ensureDirs(dir: string): void {
  mkdirSync(hostsDir(dir), { recursive: true, mode: 0o700 });
}

/** The host's file, or undefined when there is none (or it cannot be read: the host starts afresh). */
export function readHostFile(dir: string, name: string): HostFile | undefined {
  let text: string;
  try {
    text = readFileSync(join(hostsDir(dir), `${name}.json`), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const f = JSON.parse(text) as HostFile;
    return typeof f.keyPem === 'string' && f.name === name ? f : undefined;
  } catch {
    return undefined;
  }
}

export async function writeHostFile(dir: string, file: HostFile): Promise<void> {
  const path = join(hostsDir(dir), `${file.name}.json`);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(file), { mode: 0o600 });
  await rename(tmp, path);
}

/** The shared keys (--key-pool K), made on first use and kept for later starts. */
export async function loadKeyPool(dir: string, size: number): Promise<string[]> {
  const poolDir = join(dir, 'key-pool');
  mkdirSync(poolDir, { recursive: true, mode: 0o700 });
  const have = new Set(readdirSync(poolDir));
  await Promise.all(Array.from({ length: size }, async (_, k) => {
    if (have.has(`${k}.pem`)) return;
    const tmp = join(poolDir, `${k}.pem.tmp`);
    await writeFile(tmp, await createKeyAsync(), { mode: 0o600 });
    await rename(tmp, join(poolDir, `${k}.pem`));
  }));
  return Array.from({ length: size }, (_, k) => readFileSync(join(poolDir, `${k}.pem`), 'utf8'));
}

export function readCaIfKept(dir: string): string | undefined {
  return existsSync(caPath(dir)) ? readFileSync(caPath(dir), 'utf8') : undefined;
}
