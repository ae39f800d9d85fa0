// Enrollment tokens: made by operators, shown once, stored as a sha256 hash, consumed by hosts
// trading them for a client certificate.
import { createHash, randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import type { Logger } from '../../../lib/log.js';
import { randomToken } from '../../../lib/random-token.js';
import type { CreateEnrollmentTokenRequest, EnrollmentTokenCreated } from '../../../proto/rest/enrollment-tokens.js';
import { contextEm } from '../../db/context.js';
import type { Orm } from '../../db/orm.js';
import { EnrollmentRefused } from '../../hostlink/contract.js';
import { EnrollmentToken } from './enrollment-token.entity.js';

export const DEFAULT_TOKEN_USES = 1;
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface EnrollmentTokensOptions {
  /** host:port hostd dials (config grpc.advertise). */
  grpcAddress: string;
  /** sha256 of the manager CA certificate, from the host link gateway. */
  caHash: () => string;
  /** Where hosts fetch install.sh, while the REST API serves HTTPS (host-install's source()). */
  installSource: () => EnrollmentTokenCreated['install'];
}

export class EnrollmentTokensService {
  constructor(private readonly orm: Orm, private readonly log: Logger, private readonly opts: EnrollmentTokensOptions) {}

  async create(input: CreateEnrollmentTokenRequest, createdBy: string): Promise<EnrollmentTokenCreated> {
    const em = contextEm(this.orm);
    const token = randomToken(32);
    const uses = input.uses ?? DEFAULT_TOKEN_USES;
    const expiresAt = new Date(Date.now() + (input.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS) * 1000);
    const row = em.create(EnrollmentToken, {
      id: randomUUID(), tokenHash: hashToken(token), uses, used: 0, expiresAt, createdBy, createdAt: new Date(),
    });
    await em.flush();
    this.log.info({ tokenId: row.id, uses, expiresAt, createdBy }, 'enrollment token created');
    const install = this.opts.installSource();
    return { id: row.id, token, uses, expiresAt: expiresAt.toISOString(), grpcAddress: this.opts.grpcAddress, caHash: this.opts.caHash(), ...(install ? { install } : {}) };
  }

  /**
   * Consumes one use of the token inside the caller's transaction, or throws EnrollmentRefused.
   * The use is taken by one `used = used + n … where used + n <= uses`: two hosts racing for the
   * last use cannot both win, and hosts racing for a many-use token all get one (a compare-and-set
   * on the `used` each had read refused all but one of them on MySQL, where enrollments run at once).
   */
  async consume(em: EntityManager, token: string, now = new Date()): Promise<void> {
    if ((await this.consumeMany(em, token, 1, now)) === 1) return;
    const row = await em.findOne(EnrollmentToken, { tokenHash: hashToken(token) }, { disableIdentityMap: true });
    if (!row) throw new EnrollmentRefused('unknown enrollment token');
    if (row.expiresAt.getTime() <= now.getTime()) throw new EnrollmentRefused('enrollment token expired');
    throw new EnrollmentRefused('enrollment token already used');
  }

  /**
   * Takes up to `count` uses of the token at once (a batch of hosts enrolling together), inside
   * the caller's transaction; returns how many it took: 0 for an unknown, expired or used-up token.
   */
  async consumeMany(em: EntityManager, token: string, count: number, now = new Date()): Promise<number> {
    // Not managed: the update below is the only write (a managed row was also flushed as changed, its dates re-read).
    const row = await em.findOne(EnrollmentToken, { tokenHash: hashToken(token) }, { disableIdentityMap: true });
    if (!row || row.expiresAt.getTime() <= now.getTime()) return 0;
    const take = Math.min(count, row.uses - row.used);
    if (take <= 0) return 0;
    const q = (name: string) => em.getPlatform().quoteIdentifier(name);
    const meta = em.getMetadata().get(EnrollmentToken.name);
    const [used, uses, id] = ['used', 'uses', 'id'].map((p) => q(meta.properties[p as never].fieldNames[0]));
    const result = await em.getConnection().execute<{ affectedRows: number }>(
      `update ${q(meta.tableName)} set ${used} = ${used} + ? where ${id} = ? and ${used} + ? <= ${uses}`, [take, row.id, take], 'run', em.getTransactionContext(),
    );
    return result.affectedRows === 0 ? 0 : take;
  }
}
