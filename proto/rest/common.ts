// What every resource's REST schemas share: the API prefix and the node selector.
import { Type, type Static } from '@sinclair/typebox';

export const API_PREFIX = '/api/v1';

export const SelectorSchema = Type.Object({
  all: Type.Optional(Type.Boolean()),
  names: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { maxItems: 10000 })),
  labels: Type.Optional(Type.String({ maxLength: 4096 })),
  groups: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 1000 })),
}, { additionalProperties: false });
export type SelectorBody = Static<typeof SelectorSchema>;
