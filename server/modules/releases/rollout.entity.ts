import { EntitySchema } from '@mikro-orm/core';
import type { SelectorBody } from '../../../proto/rest/common.js';
import type { RolloutHostState, RolloutState } from '../../../proto/rest/releases.js';
import { PortableJson } from '../../db/portable-json.js';

/** A version sent to a selection of hosts, canary first, then in waves. Driven by the leader; survives restarts. */
export class Rollout {
  id!: string;
  version!: string;
  selector!: SelectorBody;
  canary!: number;
  batch!: string;
  maxFail!: string;
  healthSeconds!: number;
  state!: RolloutState;
  /** The wave being sent (hosts of later waves are untouched). */
  currentWave = 0;
  /** When the current wave (or the rollback) began: an offline host's deadline counts from here. */
  phaseStartedAt: Date = new Date();
  stopReason = '';
  createdBy!: string;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();
  finishedAt: Date | null = null;
}

export const RolloutSchema = new EntitySchema<Rollout>({
  class: Rollout,
  tableName: 'rollouts',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    version: { type: 'string', length: 64 },
    selector: { type: PortableJson },
    canary: { type: 'integer' },
    batch: { type: 'string', length: 16 },
    maxFail: { type: 'string', length: 16 },
    healthSeconds: { type: 'integer' },
    state: { type: 'string', length: 16, index: true },
    currentWave: { type: 'integer' },
    phaseStartedAt: { type: 'datetime', length: 3 },
    stopReason: { type: 'text' },
    createdBy: { type: 'string', length: 300 },
    createdAt: { type: 'datetime', length: 3, index: true },
    updatedAt: { type: 'datetime', length: 3 },
    finishedAt: { type: 'datetime', length: 3, nullable: true },
  },
});

/** One host of a rollout: its wave, where its update stands, and the version it ran before (what a rollback returns to). */
export class RolloutHost {
  id!: string;
  rollout!: Rollout;
  nodeId!: string;
  nodeName!: string;
  wave!: number;
  /** The host's platform and arch when the rollout began: which build it gets. */
  platform!: string;
  arch!: string;
  state!: RolloutHostState;
  fromVersion = '';
  message = '';
  /** When UpdateHost (or RevertHost) went down the host's stream; its deadline counts from here. */
  sentAt: Date | null = null;
  /** Set once a rollback sent this host RevertHost (or gave up on an offline host). */
  revertSentAt: Date | null = null;
  updatedAt: Date = new Date();
}

export const RolloutHostSchema = new EntitySchema<RolloutHost>({
  class: RolloutHost,
  tableName: 'rollout_hosts',
  uniques: [{ properties: ['rollout', 'nodeId'] }],
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    rollout: { kind: 'm:1', entity: () => Rollout, deleteRule: 'cascade' },
    nodeId: { type: 'string', length: 36, index: true },
    nodeName: { type: 'string', length: 253 },
    wave: { type: 'integer' },
    platform: { type: 'string', length: 32 },
    arch: { type: 'string', length: 32 },
    state: { type: 'string', length: 16 },
    fromVersion: { type: 'string', length: 64 },
    message: { type: 'text' },
    sentAt: { type: 'datetime', length: 3, nullable: true },
    revertSentAt: { type: 'datetime', length: 3, nullable: true },
    updatedAt: { type: 'datetime', length: 3 },
  },
});
