// An in-memory HostLinkBackend for the host-link tests: the seam the real manager implements with
// its database. It records every call so tests can wait for what reached the manager.
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { MetricsSample__Output, TaskEvent__Output } from '../../proto/hostlink.js';
import {
  EnrollmentRefused, type EnrollmentDecision, type EnrollmentRequest, type HostHello, type HostLinkBackend, type HostSession, type IssuedCertificate, type ReleaseBundle,
} from '../../server/hostlink/contract.js';
import { Readable } from 'node:stream';

export interface MemoryNode {
  id: string;
  name: string;
  fingerprint?: string;
  /** The certificate a renewal replaced, accepted until the new one is presented. */
  previous?: string;
  revoked?: boolean;
  pending?: { keyFingerprint: string; approved: boolean };
}

export type BackendRecord =
  | { type: 'connected'; nodeId: string; hello: HostHello; session: HostSession }
  | { type: 'heartbeat'; nodeId: string; agentStatus: string; agentVersion: string }
  | { type: 'metrics'; nodeId: string; sample: MetricsSample__Output }
  | { type: 'task'; nodeId: string; event: TaskEvent__Output }
  | { type: 'disconnected'; nodeId: string; session: HostSession };

export class MemoryBackend extends EventEmitter implements HostLinkBackend {
  readonly tokens = new Map<string, { uses: number; expiresAt: number }>();
  readonly nodes = new Map<string, MemoryNode>();
  readonly records: BackendRecord[] = [];

  addToken(token: string, uses = 1, ttlMs = 600_000): string {
    this.tokens.set(token, { uses, expiresAt: Date.now() + ttlMs });
    return token;
  }

  private consume(token: string): void {
    const t = this.tokens.get(token);
    if (!t) throw new EnrollmentRefused('unknown enrollment token');
    if (t.expiresAt < Date.now()) throw new EnrollmentRefused('enrollment token expired');
    if (t.uses <= 0) throw new EnrollmentRefused('enrollment token already used');
    t.uses--;
  }

  byName(name: string): MemoryNode | undefined {
    return [...this.nodes.values()].find((n) => n.name === name);
  }

  async redeemEnrollmentToken(input: EnrollmentRequest): Promise<EnrollmentDecision> {
    const existing = this.byName(input.nodeName);
    if (!existing) {
      this.consume(input.token);
      const id = randomUUID();
      this.nodes.set(id, { id, name: input.nodeName });
      return { outcome: 'issue', nodeId: id };
    }
    const held: EnrollmentDecision = { outcome: 'held', nodeId: existing.id, message: `node ${existing.name} is already enrolled with another key; an operator must run \`opsctl nodes approve ${existing.name}\`` };
    if (existing.pending?.keyFingerprint === input.keyFingerprint) return existing.pending.approved ? { outcome: 'issue', nodeId: existing.id } : held;
    if (existing.pending?.approved) throw new EnrollmentRefused(`node ${existing.name} has an approved request for another key waiting to be collected`);
    this.consume(input.token);
    existing.pending = { keyFingerprint: input.keyFingerprint, approved: false };
    return held;
  }

  /** What `opsctl nodes approve` does to the node: the old certificate stops authenticating. */
  approve(name: string): void {
    const node = this.byName(name);
    if (!node?.pending) throw new Error(`nothing pending for ${name}`);
    node.pending.approved = true;
    node.fingerprint = undefined;
    node.previous = undefined;
  }

  async recordCertificate(nodeId: string, cert: IssuedCertificate): Promise<void> {
    const node = this.nodes.get(nodeId);
    if (!node) return;
    node.fingerprint = cert.fingerprint;
    node.previous = undefined;
    if (node.pending?.keyFingerprint === cert.keyFingerprint) node.pending = undefined;
  }

  async authenticate(nodeId: string, fingerprint: string): Promise<{ nodeId: string; nodeName: string } | null> {
    const node = this.nodes.get(nodeId);
    if (!node || node.revoked) return null;
    if (node.fingerprint === fingerprint) {
      node.previous = undefined;
      return { nodeId: node.id, nodeName: node.name };
    }
    return node.previous === fingerprint ? { nodeId: node.id, nodeName: node.name } : null;
  }

  async recordRenewal(nodeId: string, presented: string, cert: IssuedCertificate): Promise<boolean> {
    const node = this.nodes.get(nodeId);
    if (!node || node.revoked || (node.fingerprint !== presented && node.previous !== presented)) return false;
    node.fingerprint = cert.fingerprint;
    node.previous = presented;
    return true;
  }

  private record(r: BackendRecord): void {
    this.records.push(r);
    this.emit('record', r);
  }

  /** The next connections fail to be recorded (a database away), this many of them. */
  failConnects = 0;

  async onConnected(session: HostSession, hello: HostHello): Promise<void> {
    if (this.failConnects > 0) {
      this.failConnects--;
      throw new Error('the database is away');
    }
    this.record({ type: 'connected', nodeId: session.nodeId, hello, session });
  }
  async onHeartbeat(nodeId: string, agentStatus: string, agentVersion: string): Promise<void> { this.record({ type: 'heartbeat', nodeId, agentStatus, agentVersion }); }
  async onMetrics(nodeId: string, sample: MetricsSample__Output): Promise<void> { this.record({ type: 'metrics', nodeId, sample }); }
  async onTaskEvent(nodeId: string, event: TaskEvent__Output): Promise<void> { this.record({ type: 'task', nodeId, event }); }
  async onFileAck(): Promise<void> {}
  async onDisconnected(session: HostSession): Promise<void> { this.record({ type: 'disconnected', nodeId: session.nodeId, session }); }

  /** Release bundles FetchRelease serves, by "version platform arch"; `opened` counts the bytes each read took from its source. */
  readonly bundles = new Map<string, Buffer>();
  readonly opened: { offset: number; produced: number }[] = [];

  async releaseBundle(version: string, platform: string, arch: string): Promise<ReleaseBundle | null> {
    const data = this.bundles.get(`${version} ${platform} ${arch}`);
    if (!data) return null;
    return {
      size: data.length,
      open: (offset) => {
        const read = { offset, produced: 0 };
        this.opened.push(read);
        let at = offset;
        // Produces 64 KiB only when asked: what it produced is what the gateway pulled.
        return new Readable({
          highWaterMark: 64 * 1024,
          read() {
            if (at >= data.length) { this.push(null); return; }
            const chunk = data.subarray(at, at + 64 * 1024);
            at += chunk.length;
            read.produced += chunk.length;
            this.push(chunk);
          },
        });
      },
    };
  }

  /** Resolves with the first record (already seen or future) that matches. */
  waitFor<T extends BackendRecord>(what: string, match: (r: BackendRecord) => r is T, timeoutMs?: number): Promise<T>;
  waitFor(what: string, match: (r: BackendRecord) => boolean, timeoutMs?: number): Promise<BackendRecord>;
  waitFor(what: string, match: (r: BackendRecord) => boolean, timeoutMs = 20_000): Promise<BackendRecord> {
    const seen = this.records.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const onRecord = (r: BackendRecord) => {
        if (!match(r)) return;
        clearTimeout(timer);
        this.off('record', onRecord);
        resolve(r);
      };
      const timer = setTimeout(() => {
        this.off('record', onRecord);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; records: ${this.records.map((r) => r.type).join(',')}`));
      }, timeoutMs);
      this.on('record', onRecord);
    });
  }

  taskEvents(runId: string): TaskEvent__Output[] {
    return this.records.flatMap((r) => (r.type === 'task' && r.event.runId === runId ? [r.event] : []));
  }
}
