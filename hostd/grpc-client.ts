// The gRPC client for the manager's host link: TLS 1.3 only, the manager's CA as the only root,
// and (after enrollment) the node's key and certificate for mutual TLS. The HostLink methods over
// hostd's own HTTP/2 gRPC client (grpc-h2-client.ts), with the messages' static codecs (proto/hostlink.ts).
import { opsVersion } from '../lib/version.js';
import type { FetchReleaseRequest } from '../proto/gen/opsctl/hostlink/v1/FetchReleaseRequest.js';
import type { EnrollRequest } from '../proto/gen/opsctl/hostlink/v1/EnrollRequest.js';
import type { ReleaseChunk__Output } from '../proto/gen/opsctl/hostlink/v1/ReleaseChunk.js';
import type { RenewRequest } from '../proto/gen/opsctl/hostlink/v1/RenewRequest.js';
import { hostLinkMethods, type EnrollResponse__Output, type HostMessage, type ManagerMessage__Output, type RenewResponse__Output } from '../proto/hostlink.js';
import {
  GrpcChannel, type CallOptions, type ChannelOptions, type ClientDuplexStream, type ClientReadableStream, type MethodCodec, type UnaryCall, type UnaryCallback,
} from './grpc-h2-client.js';
import { nodeTls } from './node-tls.js';

export interface LinkTls {
  caPem: string;
  keyPem?: string;
  certPem?: string;
}

/** The host link's bidirectional stream. */
export type LinkStream = ClientDuplexStream<HostMessage, ManagerMessage__Output>;

/** The HostLink service, as hostd and the fleet simulator call it. */
export interface HostLinkClient {
  Connect(options?: CallOptions): LinkStream;
  Enroll(request: EnrollRequest, options: CallOptions, callback: UnaryCallback<EnrollResponse__Output>): UnaryCall;
  Renew(request: RenewRequest, options: CallOptions, callback: UnaryCallback<RenewResponse__Output>): UnaryCall;
  FetchRelease(request: FetchReleaseRequest, options?: CallOptions): ClientReadableStream<ReleaseChunk__Output>;
  /** Calls back once connected, or with an error at the deadline (the connection is retried meanwhile). */
  waitForReady(deadline: number | Date, callback: (err?: Error) => void): void;
  close(): void;
}

/** Keepalive so a dead manager (or a dead NAT mapping) is noticed within about 40 s. */
export const CLIENT_CHANNEL_OPTIONS: ChannelOptions = {
  keepaliveMs: 30_000,
  keepaliveTimeoutMs: 10_000,
  maxReceiveBytes: 8 * 1024 * 1024,
  // HTTP/2's default 64 KiB receive window makes an upload wait a round trip per 64 KiB; the
  // manager's own window (files.windowBytes) bounds what is in flight anyway.
  windowBytes: 4 * 1024 * 1024,
  // hostd does its own reconnect backoff (with jitter); keep the channel's short.
  reconnectMinMs: 1000,
  reconnectMaxMs: 5000,
  userAgent: `opsctl-hostd/${opsVersion()}`,
};

function method<Req, Res>(name: string): MethodCodec<Req, Res> {
  const m = hostLinkMethods()[name];
  return { path: m.path, serialize: m.serializeRequest as (value: Req) => Buffer, deserialize: m.deserializeResponse as (bytes: Buffer) => Res };
}

/** `options` are merged over CLIENT_CHANNEL_OPTIONS. */
export function createHostLinkClient(address: string, tls: LinkTls, options: Partial<ChannelOptions> = {}): HostLinkClient {
  const secureContext = nodeTls.createSecureContext({
    ca: tls.caPem,
    key: tls.keyPem,
    cert: tls.certPem,
    minVersion: 'TLSv1.3',
  });
  const channel = new GrpcChannel(address, { secureContext }, { ...CLIENT_CHANNEL_OPTIONS, ...options });
  const connect = method<HostMessage, ManagerMessage__Output>('Connect');
  const enroll = method<EnrollRequest, EnrollResponse__Output>('Enroll');
  const renew = method<RenewRequest, RenewResponse__Output>('Renew');
  const fetchRelease = method<FetchReleaseRequest, ReleaseChunk__Output>('FetchRelease');
  return {
    Connect: (opts = {}) => channel.bidiStream(connect, opts),
    Enroll: (request, opts, callback) => channel.unary(enroll, request, opts, callback),
    Renew: (request, opts, callback) => channel.unary(renew, request, opts, callback),
    FetchRelease: (request, opts = {}) => channel.serverStream(fetchRelease, request, opts),
    waitForReady: (deadline, callback) => channel.waitForReady(deadline, callback),
    close: () => channel.close(),
  };
}
