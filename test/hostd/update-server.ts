// A small HostLink server for the updater's tests, over real gRPC and mutual TLS (the manager's own
// PKI code): Enroll signs any token's CSR, Connect records hellos and update reports and lets the
// test send UpdateHost / RevertHost, and FetchRelease serves bundles — honestly, or as an attacker
// that keeps sending past the declared size. The manager's real releases module is built apart.
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FetchReleaseRequest__Output } from '../../proto/gen/opsctl/hostlink/v1/FetchReleaseRequest.js';
import type { ReleaseChunk } from '../../proto/gen/opsctl/hostlink/v1/ReleaseChunk.js';
import type { RevertHost } from '../../proto/gen/opsctl/hostlink/v1/RevertHost.js';
import type { UpdateHost } from '../../proto/gen/opsctl/hostlink/v1/UpdateHost.js';
import type { UpdateReport__Output } from '../../proto/gen/opsctl/hostlink/v1/UpdateReport.js';
import type { HostLinkHandlers, HostMessage__Output, ManagerMessage } from '../../proto/hostlink.js';
import { loadHostLink } from '../../proto/hostlink-service.js';
import { checkClientCertificate } from '../../server/hostlink/client-cert.js';
import { RequestClientCertCredentials } from '../../server/hostlink/credentials.js';
import { ManagerPki } from '../../server/hostlink/pki.js';
import { waitUntil } from './helpers.js';

export interface ServedRelease {
  data: Buffer;
  /** endless: after the bundle, junk for as long as the host keeps reading. */
  mode?: 'honest' | 'endless';
}

export interface Hello { node: string; hostdVersion: string; agentVersion: string; lastUpdate: UpdateReport__Output | null; at: number }

export class UpdateServer {
  readonly hellos: Hello[] = [];
  readonly reports: UpdateReport__Output[] = [];
  readonly fetches: { version: string; offset: number; sent: number; cancelled: boolean }[] = [];
  readonly releases = new Map<string, ServedRelease>();
  /** The open stream of each node, by node name. */
  private readonly streams = new Map<string, grpc.ServerDuplexStream<HostMessage__Output, ManagerMessage>>();
  private server?: grpc.Server;
  private readonly pki: ManagerPki;
  port = 0;

  constructor(private readonly dir = mkdtempSync(join(tmpdir(), 'ops-update-server-'))) {
    this.pki = ManagerPki.loadOrCreate({ pkiDir: join(dir, 'pki'), advertiseHost: '' });
  }

  get address(): string { return `127.0.0.1:${this.port}`; }
  get caHash(): string { return this.pki.caHash(); }

  /** Starts (again: the same port and CA after stop()). */
  async start(): Promise<void> {
    const server = new grpc.Server();
    const handlers: HostLinkHandlers = {
      Enroll: (call, cb) => {
        try {
          const issued = this.pki.signNodeCsr(call.request.csrPem, call.request.nodeName, `node-${call.request.nodeName}`, 30);
          cb(null, { nodeId: `node-${call.request.nodeName}`, certificatePem: issued.certificatePem, caPem: this.pki.caCertPem, keyFingerprint: '' });
        } catch (err) {
          cb({ code: grpc.status.INVALID_ARGUMENT, details: (err as Error).message });
        }
      },
      Renew: (_call, cb) => cb({ code: grpc.status.UNIMPLEMENTED, details: 'not in this test server' }),
      Connect: (call) => this.connect(call),
      FetchRelease: (call) => this.fetch(call),
    };
    server.addService(loadHostLink().HostLink.service, handlers);
    const creds = new RequestClientCertCredentials(this.pki.caCertPem, this.pki.serverChainPem(), this.pki.serverKeyPem);
    this.port = await new Promise<number>((resolve, reject) => server.bindAsync(`127.0.0.1:${this.port}`, creds, (err, port) => (err ? reject(err) : resolve(port))));
    this.server = server;
  }

  private connect(call: grpc.ServerDuplexStream<HostMessage__Output, ManagerMessage>): void {
    const cert = checkClientCertificate(call.getAuthContext().sslPeerCertificate?.raw, this.pki.caCertificate);
    if (!cert.ok) { call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: cert.reason }); return; }
    const node = cert.nodeId.replace(/^node-/, '');
    call.on('data', (msg: HostMessage__Output) => {
      if (msg.kind === 'hello' && msg.hello) {
        this.hellos.push({ node, hostdVersion: msg.hello.hostdVersion, agentVersion: msg.hello.agentVersion, lastUpdate: msg.hello.lastUpdate ?? null, at: Date.now() });
        this.streams.set(node, call);
        call.write({ welcome: { nodeId: cert.nodeId, nodeName: 'n', heartbeatSeconds: 1, metricsSeconds: 60 } });
      } else if (msg.kind === 'updateReport' && msg.updateReport) {
        this.reports.push(msg.updateReport);
      }
    });
    const gone = () => { if (this.streams.get(node) === call) this.streams.delete(node); };
    call.on('error', gone);
    call.on('cancelled', gone);
    call.on('end', () => { gone(); call.end(); });
  }

  private fetch(call: grpc.ServerWritableStream<FetchReleaseRequest__Output, ReleaseChunk>): void {
    const { version, offset } = call.request;
    const release = this.releases.get(version);
    if (!release) { call.emit('error', { code: grpc.status.NOT_FOUND, details: `no release ${version}` }); return; }
    const record = { version, offset: Number(offset), sent: 0, cancelled: false };
    this.fetches.push(record);
    call.on('cancelled', () => { record.cancelled = true; });
    let pos = Number(offset);
    const CHUNK = 64 * 1024;
    const pump = () => {
      while (!record.cancelled) {
        let data: Buffer;
        if (pos < release.data.length) data = release.data.subarray(pos, pos + CHUNK);
        else if (release.mode === 'endless') data = Buffer.alloc(CHUNK, 0x41);
        else { call.end(); return; }
        pos += data.length;
        record.sent += data.length;
        // Give up after 1 GiB: the test fails on the size, not on the machine's memory.
        if (record.sent > 1024 ** 3) { call.end(); return; }
        if (!call.write({ data })) { call.once('drain', pump); return; }
      }
    };
    pump();
  }

  /** The stream of a connected node (waits for it). */
  private async streamOf(node: string): Promise<grpc.ServerDuplexStream<HostMessage__Output, ManagerMessage>> {
    return waitUntil(`${node} to be connected`, () => this.streams.get(node), 30_000);
  }

  /** The last hello of a node. */
  helloOf(node: string): Hello | undefined { return this.hellos.filter((h) => h.node === node).pop(); }

  async sendUpdate(node: string, u: UpdateHost): Promise<void> { (await this.streamOf(node)).write({ updateHost: u }); }
  async sendRevert(node: string, r: RevertHost): Promise<void> { (await this.streamOf(node)).write({ revertHost: r }); }

  /** Waits for a report matching `match` (from the ones after index `from`). */
  waitReport(what: string, match: (r: UpdateReport__Output) => boolean, timeoutMs = 60_000, from = 0): Promise<UpdateReport__Output> {
    return waitUntil(what, () => this.reports.slice(from).find(match), timeoutMs);
  }

  /** The manager goes away: every stream is cut; start() brings it back on the same port. */
  async stop(): Promise<void> {
    this.streams.clear();
    this.server?.forceShutdown();
    this.server = undefined;
  }

  async close(): Promise<void> {
    for (const call of this.streams.values()) call.end();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { this.server?.forceShutdown(); resolve(); }, 2000);
      this.server?.tryShutdown(() => { clearTimeout(timer); resolve(); });
      if (!this.server) resolve();
    });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
