// Request schemas of agentd's HTTP API, as plain JSON Schema: Fastify validates bodies and params
// with them, and a field that is missing, of the wrong type, or unknown is refused with 400 / 1001
// naming the field. (Plain objects rather than TypeBox: importing TypeBox and the REST schemas
// costs agentd about 8 MB of private memory, against a 20 MB idle target.)
import { INTERPRETER_COMMANDS } from '../exec/script-env.js';

/** Run ids travel in URL paths (cancel), so they are limited to characters that need no escaping. */
export const RUN_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$';

export const ExecRequestSchema = {
  type: 'object',
  required: ['runId', 'script'],
  additionalProperties: false,
  properties: {
    runId: { type: 'string', pattern: RUN_ID_PATTERN },
    script: { type: 'string', minLength: 1, maxLength: 1024 * 1024 },
    // Same set as proto/rest/tasks.ts Interpreter; INTERPRETER_COMMANDS is typed Record<Interpreter, string>.
    interpreter: { type: 'string', enum: Object.keys(INTERPRETER_COMMANDS) },
    timeoutMs: { type: 'integer', minimum: 1, maximum: 7 * 24 * 3600 * 1000 },
    env: {
      type: 'object',
      // A variable name outside the pattern is an error, not silently passed on.
      additionalProperties: false,
      patternProperties: { '^[A-Za-z_][A-Za-z0-9_]*$': { type: 'string', maxLength: 65536 } },
    },
  },
} as const;

export const RunIdParamsSchema = {
  type: 'object',
  required: ['runId'],
  additionalProperties: false,
  properties: { runId: { type: 'string', pattern: RUN_ID_PATTERN } },
} as const;
