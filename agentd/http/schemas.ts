// Request schemas of agentd's HTTP API. Fastify validates bodies and params with them; a field
// that is missing, of the wrong type, or unknown is refused with 400 / 1001 naming the field.
import { Type } from '@sinclair/typebox';
import { Interpreter } from '../../proto/rest.js';

/** Run ids travel in URL paths (cancel), so they are limited to characters that need no escaping. */
export const RUN_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$';

export const ExecRequestSchema = Type.Object({
  runId: Type.String({ pattern: RUN_ID_PATTERN }),
  script: Type.String({ minLength: 1, maxLength: 1024 * 1024 }),
  interpreter: Type.Optional(Interpreter),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600 * 1000 })),
  // additionalProperties: false makes a variable name outside the pattern an error, not silently accepted.
  env: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.String({ maxLength: 65536 }), { additionalProperties: false })),
}, { additionalProperties: false });

export const RunIdParamsSchema = Type.Object({
  runId: Type.String({ pattern: RUN_ID_PATTERN }),
}, { additionalProperties: false });
