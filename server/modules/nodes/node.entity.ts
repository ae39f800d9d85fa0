import { EntitySchema } from '@mikro-orm/core';
import { PortableJson } from '../../db/portable-json.js';
import type { Facts, Metrics, NodeStatus } from '../../../proto/rest/nodes.js';

export class Node {
  id!: string;
  name!: string;
  status: NodeStatus = 'offline';
  /** The operator's labels (opsctl nodes label); they win over hostLabels on the same key. */
  labels: Record<string, string> = {};
  /** The labels the host declares in hostd.yaml, as of its last hello (null before it said any). */
  hostLabels: Record<string, string> | null = null;
  /** The names of the groups the node is in, kept by the groups module (groups/membership.ts). */
  groups: string[] = [];
  facts: Facts | null = null;
  metrics: Metrics | null = null;
  agentVersion = '';
  agentStatus = 'unknown';
  hostdVersion = '';
  address = '';
  /** sha256 of the current client certificate (DER), lowercase hex; only it may connect. */
  certFingerprint: string | null = null;
  certSerial: string | null = null;
  certExpiresAt: Date | null = null;
  /**
   * The certificate this one renewed, still accepted until the renewed one is first presented,
   * so a host that crashed between the manager recording a renewal and writing it to disk can
   * come back with the old one (bounded by the old one's own expiry).
   */
  previousCertFingerprint: string | null = null;
  /** A known name arrived with another key: that key's fingerprint, held for `opsctl nodes approve`. */
  pendingKeyFingerprint: string | null = null;
  pendingAddress: string | null = null;
  pendingSince: Date | null = null;
  /** Approved: the host collects its certificate on its next Enroll with that key. */
  pendingApprovedAt: Date | null = null;
  lastSeenAt: Date | null = null;
  enrolledAt: Date = new Date();
}

export const NodeSchema = new EntitySchema<Node>({
  class: Node,
  tableName: 'nodes',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    name: { type: 'string', length: 253, unique: true },
    status: { type: 'string', length: 16, index: true },
    labels: { type: PortableJson },
    hostLabels: { type: PortableJson, nullable: true },
    groups: { type: PortableJson },
    facts: { type: PortableJson, nullable: true },
    metrics: { type: PortableJson, nullable: true },
    agentVersion: { type: 'string', length: 64 },
    agentStatus: { type: 'string', length: 32 },
    hostdVersion: { type: 'string', length: 64 },
    address: { type: 'string', length: 255 },
    certFingerprint: { type: 'string', length: 64, nullable: true },
    certSerial: { type: 'string', length: 128, nullable: true },
    certExpiresAt: { type: 'datetime', length: 3, nullable: true },
    previousCertFingerprint: { type: 'string', length: 64, nullable: true },
    pendingKeyFingerprint: { type: 'string', length: 64, nullable: true },
    pendingAddress: { type: 'string', length: 255, nullable: true },
    pendingSince: { type: 'datetime', length: 3, nullable: true },
    pendingApprovedAt: { type: 'datetime', length: 3, nullable: true },
    lastSeenAt: { type: 'datetime', length: 3, nullable: true, index: true },
    enrolledAt: { type: 'datetime', length: 3 },
  },
});
