// The host link's methods over the messages' static encoders and decoders (proto/gen/hostlink-codec.ts,
// generated from hostlink.proto by pbjs in the build): no .proto is parsed and no code generated at
// start. Values cross the wire exactly as proto-loader would hand them over with PROTO_LOADER_OPTIONS
// (fromObject on the way out, toObject with these options on the way in), the options the generated
// types in proto/gen were made with, so the two always agree. Both ends use these methods: the
// manager through grpc-js (hostlink-service.ts), hostd through its own HTTP/2 client
// (hostd/grpc-client.ts); this module loads no gRPC library, so hostd's bundle carries none.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as protoLoader from '@grpc/proto-loader';
import codecRoot, { SERVICE_METHODS } from './gen/hostlink-codec.js';

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
export type { HostLinkHandlers } from './gen/opsctl/hostlink/v1/HostLink.js';

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

/** One method of the service: its HTTP/2 path, whether each side streams, and its messages' codecs. */
export interface HostLinkMethod {
  name: string;
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  serializeRequest: (value: object) => Buffer;
  deserializeRequest: (bytes: Buffer) => object;
  serializeResponse: (value: object) => Buffer;
  deserializeResponse: (bytes: Buffer) => object;
}

let methods: Record<string, HostLinkMethod> | undefined;

/** The HostLink methods by name (Enroll, Connect, Renew, FetchRelease). */
export function hostLinkMethods(): Record<string, HostLinkMethod> {
  if (!methods) {
    methods = {};
    for (const m of SERVICE_METHODS) {
      const request = messageCodec(m.requestType);
      const response = messageCodec(m.responseType);
      methods[m.name] = {
        name: m.name, path: `/${m.service}/${m.name}`, requestStream: m.requestStream, responseStream: m.responseStream,
        serializeRequest: serializer(request), deserializeRequest: deserializer(request),
        serializeResponse: serializer(response), deserializeResponse: deserializer(response),
      };
    }
  }
  return methods;
}
