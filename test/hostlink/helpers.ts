// Helpers for host-link tests: an in-process gateway on an ephemeral loopback port, and clients.
import * as grpc from '../../hostd/grpc-h2-client.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../lib/log.js';
import type { EnrollResponse__Output, HostMessage, ManagerMessage__Output, RenewResponse__Output } from '../../proto/hostlink.js';
import { HostLinkGateway } from '../../server/hostlink/gateway.js';
import { createHostLinkClient, type HostLinkClient, type LinkTls } from '../../hostd/grpc-client.js';
import { MemoryBackend } from './memory-backend.js';

export interface TestGateway {
  gateway: HostLinkGateway;
  backend: MemoryBackend;
  address: string;
  dir: string;
  logs: string[];
  close(): Promise<void>;
}

export async function startGateway(over: { heartbeatSeconds?: number; metricsSeconds?: number; certificateDays?: number; acceptsTaskEvents?: boolean } = {}): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'ops-hostlink-'));
  const backend = new MemoryBackend();
  const logs: string[] = [];
  const destination = new Writable({ write(chunk, _enc, cb) { logs.push(String(chunk)); cb(); } });
  const gateway = new HostLinkGateway({
    host: '127.0.0.1', port: 0, advertiseHost: '', pkiDir: join(dir, 'pki'),
    heartbeatSeconds: over.heartbeatSeconds ?? 1, metricsSeconds: over.metricsSeconds ?? 60, certificateDays: over.certificateDays ?? 30,
    backend, log: createLogger({ component: 'test-gateway', level: 'debug', destination }), acceptsTaskEvents: over.acceptsTaskEvents,
  });
  await gateway.start();
  return {
    gateway, backend, dir, logs, address: `127.0.0.1:${gateway.port}`,
    close: async () => { await gateway.stop(); rmSync(dir, { recursive: true, force: true }); },
  };
}

export function enroll(client: HostLinkClient, req: { token: string; nodeName: string; csrPem: string }): Promise<EnrollResponse__Output> {
  return new Promise((resolve, reject) => {
    client.Enroll(req, { deadline: Date.now() + 15_000 }, (err, res) => (err ? reject(err) : resolve(res!)));
  });
}

export function renew(client: HostLinkClient, csrPem: string): Promise<RenewResponse__Output> {
  return new Promise((resolve, reject) => {
    client.Renew({ csrPem }, { deadline: Date.now() + 15_000 }, (err, res) => (err ? reject(err) : resolve(res!)));
  });
}

export interface OpenStream {
  call: grpc.ClientDuplexStream<HostMessage, ManagerMessage__Output>;
  messages: ManagerMessage__Output[];
  status: Promise<grpc.StatusObject>;
  next(what: string, match: (m: ManagerMessage__Output) => boolean, timeoutMs?: number): Promise<ManagerMessage__Output>;
}

export function openStream(client: HostLinkClient): OpenStream {
  const call = client.Connect();
  const messages: ManagerMessage__Output[] = [];
  const waiters: (() => void)[] = [];
  call.on('data', (m: ManagerMessage__Output) => { messages.push(m); for (const w of waiters.splice(0)) w(); });
  call.on('error', () => undefined);
  const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  const next = (what: string, match: (m: ManagerMessage__Output) => boolean, timeoutMs = 10_000) =>
    new Promise<ManagerMessage__Output>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      const check = () => {
        const found = messages.find(match);
        if (found) { clearTimeout(timer); resolve(found); } else waiters.push(check);
      };
      check();
    });
  return { call, messages, status, next };
}

export function client(address: string, tls: LinkTls): HostLinkClient {
  return createHostLinkClient(address, tls);
}

export const FACTS = { hostname: 'h1', os: 'TestOS 1', platform: 'linux', kernel: '6.1', arch: 'x64', cpuModel: 'cpu', cpus: 2, memoryBytes: 1024, ips: ['192.0.2.1'] };

export function cleanupDir(dir: string): void { rmSync(dir, { recursive: true, force: true }); }
