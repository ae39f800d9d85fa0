import { EntitySchema } from '@mikro-orm/core';

export class EnrollmentToken {
  id!: string;
  /** sha256 of the token, lowercase hex; the token itself is shown once and never stored. */
  tokenHash!: string;
  uses!: number;
  used = 0;
  expiresAt!: Date;
  createdBy!: string;
  createdAt: Date = new Date();
}

export const EnrollmentTokenSchema = new EntitySchema<EnrollmentToken>({
  class: EnrollmentToken,
  tableName: 'enrollment_tokens',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    tokenHash: { type: 'string', length: 64, unique: true },
    uses: { type: 'integer' },
    used: { type: 'integer' },
    expiresAt: { type: 'datetime', length: 3 },
    createdBy: { type: 'string', length: 128 },
    createdAt: { type: 'datetime', length: 3 },
  },
});
