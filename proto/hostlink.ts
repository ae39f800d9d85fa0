// Loads hostlink.proto at run time (proto-loader; no native protoc) with the options the
// generated types in proto/gen were made with, so the two always agree.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './gen/hostlink.js';

export type { HostMessage, HostMessage__Output } from './gen/opsctl/hostlink/v1/HostMessage.js';
export type { ManagerMessage, ManagerMessage__Output } from './gen/opsctl/hostlink/v1/ManagerMessage.js';
export type { Facts, Facts__Output } from './gen/opsctl/hostlink/v1/Facts.js';
export type { MetricsSample, MetricsSample__Output } from './gen/opsctl/hostlink/v1/MetricsSample.js';
export type { TaskEvent, TaskEvent__Output } from './gen/opsctl/hostlink/v1/TaskEvent.js';
export type { Dispatch, Dispatch__Output } from './gen/opsctl/hostlink/v1/Dispatch.js';
export type { EnrollRequest__Output } from './gen/opsctl/hostlink/v1/EnrollRequest.js';
export type { EnrollResponse__Output } from './gen/opsctl/hostlink/v1/EnrollResponse.js';
export type { RenewRequest__Output } from './gen/opsctl/hostlink/v1/RenewRequest.js';
export type { RenewResponse, RenewResponse__Output } from './gen/opsctl/hostlink/v1/RenewResponse.js';
export type { HostLinkClient, HostLinkHandlers } from './gen/opsctl/hostlink/v1/HostLink.js';

export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true,
};

/** The .proto file, found from both the TypeScript sources and the built dist/ tree. */
export function hostlinkProtoPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'proto', 'hostlink', 'v1', 'hostlink.proto');
    if (existsSync(candidate)) return candidate;
    const local = join(dir, 'hostlink', 'v1', 'hostlink.proto');
    if (existsSync(local)) return local;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('hostlink.proto not found next to the opsctl package');
    dir = parent;
  }
}

let cached: ProtoGrpcType['opsctl']['hostlink']['v1'] | undefined;

export function loadHostLink(): ProtoGrpcType['opsctl']['hostlink']['v1'] {
  if (!cached) {
    const def = protoLoader.loadSync(hostlinkProtoPath(), PROTO_LOADER_OPTIONS);
    cached = (grpc.loadPackageDefinition(def) as unknown as ProtoGrpcType).opsctl.hostlink.v1;
  }
  return cached;
}
