// With replicas, every manager process must hold the same JWT signing secret, host CA and key for
// secret task values: a token issued by one is checked by another, a host certified by one connects
// to another. A single manager generates them once in its data directory; replicas keep them in
// the database, sealed with cluster.key, and each replica writes them into its own data directory
// at start, where the code that reads them (app.ts, hostlink/pki.ts, secret-box.ts) finds them as
// always. The first replica to start puts its own (or generates them); the others take them.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { Orm } from '../db/orm.js';
import { writeFileAtomicSync } from '../../lib/atomic-write.js';
import type { Logger } from '../../lib/log.js';
import { JWT_SECRET_FILE, jwtSecret } from '../app.js';
import type { ManagerConfig } from '../config.js';
import { loadOrCreateCa } from '../hostlink/pki.js';
import { SECRETS_KEY_FILE, SecretBox } from '../secret-box.js';
import { SharedSecret } from '../modules/cluster/shared-secret.entity.js';

interface Shared {
  name: string;
  /** The files it lives in, in this data directory, and their contents from one stored value. */
  files: (dataDir: string) => string[];
  /** This data directory's value, made if there is none yet (by the loader the manager uses anyway). */
  local(config: ManagerConfig): string;
}

const pkiDir = (dataDir: string) => join(dataDir, 'pki');

const SHARED: Shared[] = [
  { name: 'jwt.secret', files: (d) => [join(d, JWT_SECRET_FILE)], local: (c) => jwtSecret(c) },
  {
    name: 'secrets.key', files: (d) => [join(d, SECRETS_KEY_FILE)],
    local: (c) => { SecretBox.load('', c.dataDir); return readFileSync(join(c.dataDir, SECRETS_KEY_FILE), 'utf8').trim(); },
  },
  {
    name: 'host-ca', files: (d) => [join(pkiDir(d), 'ca.key'), join(pkiDir(d), 'ca.crt')],
    local: (c) => { const ca = loadOrCreateCa(pkiDir(c.dataDir)); return JSON.stringify([ca.caKeyPem, ca.caCertPem]); },
  },
];

/** Which shared values come from configuration instead (every replica's config then has to agree). */
function configured(config: ManagerConfig, name: string): boolean {
  return (name === 'jwt.secret' && config.auth.jwtSecret !== '') || (name === 'secrets.key' && config.secrets.key !== '');
}

function contents(s: Shared, value: string): string[] {
  return s.name === 'host-ca' ? (JSON.parse(value) as string[]) : [`${value}\n`];
}

export async function adoptSharedSecrets(orm: Orm, config: ManagerConfig, log: Logger): Promise<void> {
  const box = SecretBox.load(config.cluster.key, config.dataDir);
  const em = orm.em.fork();
  await adoptReleaseKeys(em, box, config);
  for (const s of SHARED) {
    if (configured(config, s.name)) continue;
    let row = await em.findOne(SharedSecret, { name: s.name }, { disableIdentityMap: true });
    if (!row) {
      // Insert-if-absent: two replicas starting together both try, one wins, both read the winner.
      try {
        await em.insert(SharedSecret, { name: s.name, sealed: box.seal(s.local(config)), createdAt: new Date() });
      } catch (err) {
        if (!(err instanceof UniqueConstraintViolationException)) throw err;
      }
      row = await em.findOneOrFail(SharedSecret, { name: s.name }, { disableIdentityMap: true });
    }
    let value: string;
    try {
      value = box.open(row.sealed);
    } catch {
      throw new Error(`the shared secret "${s.name}" in the database was sealed with another cluster.key: every replica needs the same cluster.key`);
    }
    const files = s.files(config.dataDir);
    const wanted = contents(s, value);
    const differs = files.some((file, i) => !existsSync(file) || readFileSync(file, 'utf8') !== wanted[i]);
    if (!differs) continue;
    if (files.some((file) => existsSync(file))) log.warn({ secret: s.name, files }, 'replacing this data directory\'s value with the cluster\'s (from the database)');
    files.forEach((file, i) => {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      writeFileAtomicSync(file, wanted[i], 0o600);
    });
  }
}

const RELEASE_KEYS = 'release-keys';

/**
 * The release keys the cluster trusts (releases.trustedKeys) are the cluster's, not a replica's:
 * the first replica that has some stores them; a replica configured without keys takes the
 * stored ones; one configured with other keys refuses to start rather than accept what the others
 * refuse (or the reverse).
 */
async function adoptReleaseKeys(em: ReturnType<Orm['em']['fork']>, box: SecretBox, config: ManagerConfig): Promise<void> {
  const mine = [...config.releases.trustedKeys].sort();
  let row = await em.findOne(SharedSecret, { name: RELEASE_KEYS }, { disableIdentityMap: true });
  if (!row && mine.length > 0) {
    try {
      await em.insert(SharedSecret, { name: RELEASE_KEYS, sealed: box.seal(JSON.stringify(mine)), createdAt: new Date() });
    } catch (err) {
      if (!(err instanceof UniqueConstraintViolationException)) throw err;
    }
    row = await em.findOneOrFail(SharedSecret, { name: RELEASE_KEYS }, { disableIdentityMap: true });
  }
  if (!row) return;
  let stored: string[];
  try {
    stored = JSON.parse(box.open(row.sealed)) as string[];
  } catch {
    throw new Error(`the shared secret "${RELEASE_KEYS}" in the database was sealed with another cluster.key: every replica needs the same cluster.key`);
  }
  if (mine.length > 0 && JSON.stringify(mine) !== JSON.stringify(stored)) {
    throw new Error(`releases.trustedKeys differs from the keys the cluster trusts (in the database: ${stored.length} key(s)); give every replica the same keys, or none to take the cluster's`);
  }
  config.releases.trustedKeys = stored;
}
