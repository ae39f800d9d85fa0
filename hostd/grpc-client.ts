// The gRPC client for the manager's host link: TLS 1.3 only, the manager's CA as the only root,
// and (after enrollment) the node's key and certificate for mutual TLS.
import * as grpc from '@grpc/grpc-js';
import { loadHostLink, type HostLinkClient } from '../proto/hostlink.js';
import { nodeTls } from './node-tls.js';

export interface LinkTls {
  caPem: string;
  keyPem?: string;
  certPem?: string;
}

/** Keepalive so a dead manager (or a dead NAT mapping) is noticed within about 40 s. */
export const CLIENT_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_receive_message_length': 8 * 1024 * 1024,
  // HTTP/2's default 64 KiB receive window makes an upload wait a round trip per 64 KiB; the
  // manager's own window (files.windowBytes) bounds what is in flight anyway.
  'grpc-node.flow_control_window': 4 * 1024 * 1024,
  // hostd does its own reconnect backoff (with jitter); keep the channel's short.
  'grpc.initial_reconnect_backoff_ms': 1000,
  'grpc.max_reconnect_backoff_ms': 5000,
};

/** `options` are merged over CLIENT_CHANNEL_OPTIONS (the fleet simulator's many channels need their own). */
export function createHostLinkClient(address: string, tls: LinkTls, options: grpc.ChannelOptions = {}): HostLinkClient {
  const context = nodeTls.createSecureContext({
    ca: tls.caPem,
    key: tls.keyPem,
    cert: tls.certPem,
    minVersion: 'TLSv1.3',
  });
  const { HostLink } = loadHostLink();
  return new HostLink(address, grpc.credentials.createFromSecureContext(context), { ...CLIENT_CHANNEL_OPTIONS, ...options });
}
