// REST bodies of /enrollment-tokens (TypeBox): the manager validates, serialises and documents (OpenAPI) with
// them; opsctl and the web import only the types, which cost nothing at run time.
import { Type, type Static } from '@sinclair/typebox';

export const CreateEnrollmentTokenRequest = Type.Object({
  uses: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, default: 1 })),
  ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 365 * 24 * 3600, default: 3600 })),
}, { additionalProperties: false });
export type CreateEnrollmentTokenRequest = Static<typeof CreateEnrollmentTokenRequest>;

export const EnrollmentTokenCreated = Type.Object({
  id: Type.String(),
  /** Shown once; the manager keeps only its hash. */
  token: Type.String(),
  uses: Type.Integer(),
  expiresAt: Type.String({ format: 'date-time' }),
  /** host:port hostd dials, as the manager advertises it. */
  grpcAddress: Type.String(),
  /** sha256 of the manager CA certificate (DER), for `hostd --ca-hash`. */
  caHash: Type.String(),
  /**
   * Where a new host fetches the install script (GET /install.sh) and curl's --pinnedpubkey value
   * that vouches for the manager; only while the REST API serves HTTPS.
   */
  install: Type.Optional(Type.Object({
    url: Type.String(),
    spkiPin: Type.String(),
  })),
});
export type EnrollmentTokenCreated = Static<typeof EnrollmentTokenCreated>;
