// REST bodies of /releases and /rollouts (TypeBox). opsctl and the web import only the types.
// A release is one signed host bundle (proto/release.ts) for one platform; a rollout sends a
// version to a selection of hosts, canary first, then in waves, within a failure budget.
import { Type, type Static } from '@sinclair/typebox';
import { SelectorSchema } from './common.js';

/**
 * POST /releases takes the bundle as its raw body (application/octet-stream) and the signed
 * manifest in these headers, so the upload is one request that either stores both or nothing.
 */
export const RELEASE_HEADERS = {
  /** Base64 of the manifest's exact UTF-8 text (what was signed). */
  manifest: 'x-ops-release-manifest',
  /** Base64 Ed25519 signature over it. */
  signature: 'x-ops-release-signature',
  /** publicKeyId() of the signing key (a hint for messages). */
  keyId: 'x-ops-release-key-id',
} as const;

export const VersionParams = Type.Object({ version: Type.String({ pattern: '^[0-9]{1,9}\\.[0-9]{1,9}\\.[0-9]{1,9}(-[0-9A-Za-z.-]+)?$', maxLength: 64 }) });

export const ReleaseView = Type.Object({
  version: Type.String(),
  component: Type.String(),
  platform: Type.String(),
  arch: Type.String(),
  file: Type.String(),
  size: Type.Integer(),
  sha256: Type.String(),
  keyId: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  notes: Type.String(),
  uploadedAt: Type.String({ format: 'date-time' }),
  uploadedBy: Type.String(),
});
export type ReleaseView = Static<typeof ReleaseView>;

/** A version's builds (one per platform), with the manifest text and signature each host checks. */
export const ReleaseDetail = Type.Object({
  version: Type.String(),
  builds: Type.Array(Type.Intersect([ReleaseView, Type.Object({ manifest: Type.String(), signature: Type.String() })])),
});
export type ReleaseDetail = Static<typeof ReleaseDetail>;

const CountOrPercent = Type.String({ pattern: '^[0-9]{1,6}%?$' });

export const CreateRolloutRequest = Type.Object({
  version: VersionParams.properties.version,
  selector: SelectorSchema,
  /** Hosts updated first, alone (wave 0); default 1. */
  canary: Type.Optional(Type.Integer({ minimum: 0, maximum: 100000 })),
  /** Hosts per wave after the canary: a count or a percentage of the hosts; default 10%. */
  batch: Type.Optional(CountOrPercent),
  /** Failed hosts the rollout takes before it halts by itself: a count or a percentage (rounded down); default 0. */
  maxFail: Type.Optional(CountOrPercent),
  /** Seconds the new version must stay healthy on a host before it commits; default 30. */
  healthSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
}, { additionalProperties: false });
export type CreateRolloutRequest = Static<typeof CreateRolloutRequest>;

export const ROLLOUT_STATES = ['running', 'paused', 'halted', 'completed', 'rolling-back', 'rolled-back'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];
/** States in which a rollout still acts on hosts: only one rollout may be in one of them (3010). */
export const ACTIVE_ROLLOUT_STATES: readonly RolloutState[] = ['running', 'paused', 'rolling-back'];

/**
 * A host's place in a rollout: `pending` (not sent yet), then the host's own UpdateReport states
 * (downloading … health-check), ending `committed` or `failed`; a rollback adds `reverting` and `reverted`.
 */
export const ROLLOUT_HOST_STATES = ['pending', 'sent', 'downloading', 'verifying', 'installing', 'restarting', 'health-check', 'committed', 'failed', 'reverting', 'reverted'] as const;
export type RolloutHostState = (typeof ROLLOUT_HOST_STATES)[number];

export const RolloutHostView = Type.Object({
  node: Type.String(),
  wave: Type.Integer(),
  state: Type.String(),
  fromVersion: Type.String(),
  message: Type.String(),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type RolloutHostView = Static<typeof RolloutHostView>;

export const WaveView = Type.Object({
  wave: Type.Integer(),
  hosts: Type.Integer(),
  pending: Type.Integer(),
  inProgress: Type.Integer(),
  committed: Type.Integer(),
  failed: Type.Integer(),
  reverted: Type.Integer(),
});
export type WaveView = Static<typeof WaveView>;

export const RolloutView = Type.Object({
  id: Type.String(),
  version: Type.String(),
  state: Type.String(),
  canary: Type.Integer(),
  batch: Type.String(),
  maxFail: Type.String(),
  /** The failure budget in hosts (maxFail applied to the host count). */
  failureBudget: Type.Integer(),
  healthSeconds: Type.Integer(),
  currentWave: Type.Integer(),
  waves: Type.Array(WaveView),
  /** Why it halted or was stopped; '' otherwise. */
  stopReason: Type.String(),
  createdBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type RolloutView = Static<typeof RolloutView>;

export const RolloutDetail = Type.Intersect([RolloutView, Type.Object({ hosts: Type.Array(RolloutHostView) })]);
export type RolloutDetail = Static<typeof RolloutDetail>;

export const RolloutIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
