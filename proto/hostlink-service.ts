// The HostLink service as grpc-js wants it, for the manager's server (and tests that stand in for
// it): the methods of hostlink.ts in proto-loader's shape. Kept apart from hostlink.ts so that hostd,
// which speaks gRPC through its own HTTP/2 client, does not load grpc-js.
import * as grpc from '@grpc/grpc-js';
import type { ProtoGrpcType } from './gen/hostlink.js';
import { hostLinkMethods } from './hostlink.js';

/** What proto-loader's loadSync would give for HostLink. */
export function hostLinkServiceDefinition(): grpc.ServiceDefinition {
  const service: Record<string, grpc.MethodDefinition<object, object>> = {};
  for (const m of Object.values(hostLinkMethods())) {
    service[m.name] = {
      path: m.path,
      requestStream: m.requestStream, responseStream: m.responseStream,
      requestSerialize: m.serializeRequest, requestDeserialize: m.deserializeRequest,
      responseSerialize: m.serializeResponse, responseDeserialize: m.deserializeResponse,
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
