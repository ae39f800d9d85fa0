// Request schemas of agentd's HTTP API, as plain JSON Schema: Ajv checks bodies and params
// with them, and a field that is missing, of the wrong type, or unknown is refused with 400 / 1001
// naming the field. (Plain objects rather than TypeBox: importing TypeBox and the REST schemas
// costs agentd about 8 MB of private memory, against a 15 MB idle target.)
import type { KindExecutor } from '../exec/kind.js';

/** Run ids travel in URL paths (cancel), so they are limited to characters that need no escaping. */
export const RUN_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$';

/** `{runId, kind, timeoutMs, params}`, with `params` checked against the schema of the kind named. */
export function execRequestSchema(kinds: readonly KindExecutor[]) {
  return {
    type: 'object',
    required: ['runId', 'kind', 'params'],
    additionalProperties: false,
    properties: {
      runId: { type: 'string', pattern: RUN_ID_PATTERN },
      kind: { type: 'string', enum: kinds.map((k) => k.kind) },
      timeoutMs: { type: 'integer', minimum: 1, maximum: 7 * 24 * 3600 * 1000 },
      params: { type: 'object' },
    },
    allOf: kinds.map((k) => ({
      if: { properties: { kind: { const: k.kind } }, required: ['kind'] },
      then: { properties: { params: k.paramsSchema } },
    })),
  } as const;
}

export const RunIdParamsSchema = {
  type: 'object',
  required: ['runId'],
  additionalProperties: false,
  properties: { runId: { type: 'string', pattern: RUN_ID_PATTERN } },
} as const;

/** GET /v1/exec/<runId>/events?after=N: the last seq the reader has (query values arrive as text). */
export const EventsQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { after: { type: 'string', pattern: '^(0|[1-9][0-9]{0,14})$' } },
} as const;
