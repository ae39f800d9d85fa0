// The host link's gRPC service over the messages' static encoders and decoders (proto/gen/hostlink-codec.ts,
// generated from hostlink.proto by pbjs in the build): no .proto is parsed and no code generated at
// start. Values cross the wire exactly as proto-loader would hand them over with PROTO_LOADER_OPTIONS
// (fromObject on the way out, toObject with these options on the way in), the options the generated
// types in proto/gen were made with, so the two always agree.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import codecRoot, { SERVICE_METHODS } from './gen/hostlink-codec.js';
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

interface MessageCodec {
  fromObject(value: object): object;
  encode(message: object): { finish(): Uint8Array };
  decode(bytes: Uint8Array): object;
  toObject(message: object, options: protoLoader.Options): object;
}

function messageCodec(fullName: string): MessageCodec {
  let found: unknown = codecRoot;
  for (const part of fullName.split('.')) found = (found as Record<string, unknown> | undefined)?.[part];
  if (typeof (found as MessageCodec | undefined)?.decode !== 'function') throw new Error(`hostlink-codec has no message ${fullName}: run scripts/gen-proto.mjs`);
  return found as MessageCodec;
}

function serializer(codec: MessageCodec): (value: object) => Buffer {
  return (value) => {
    const bytes = codec.encode(codec.fromObject(value)).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer(codec: MessageCodec): (bytes: Buffer) => object {
  return (bytes) => codec.toObject(codec.decode(bytes), PROTO_LOADER_OPTIONS);
}

/** The service as grpc-js wants it: what proto-loader's loadSync would give for HostLink. */
export function hostLinkServiceDefinition(): grpc.ServiceDefinition {
  const service: Record<string, grpc.MethodDefinition<object, object>> = {};
  for (const m of SERVICE_METHODS) {
    const request = messageCodec(m.requestType);
    const response = messageCodec(m.responseType);
    service[m.name] = {
      path: `/${m.service}/${m.name}`,
      requestStream: m.requestStream, responseStream: m.responseStream,
      requestSerialize: serializer(request), requestDeserialize: deserializer(request),
      responseSerialize: serializer(response), responseDeserialize: deserializer(response),
      // proto-loader's camel-cased alias: clients get both `Enroll` and `enroll`.
      originalName: m.name[0].toLowerCase() + m.name.slice(1),
    };
  }
  return service;
}

let cached: ProtoGrpcType['opsctl']['hostlink']['v1'] | undefined;

export function loadHostLink(): ProtoGrpcType['opsctl']['hostlink']['v1'] {
  if (!cached) {
    const HostLink = grpc.makeGenericClientConstructor(hostLinkServiceDefinition(), 'HostLink');
    cached = { HostLink } as unknown as ProtoGrpcType['opsctl']['hostlink']['v1'];
  }
  return cached;
}
