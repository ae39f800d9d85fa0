// Request validation for agentd's HTTP API: JSON Schema (agentd/http/schemas.ts and each kind's
// params schema) checked by Ajv with the options the API has always had — nothing coerced ("123"
// stays a string), nothing unknown silently dropped, defaults filled in, first error only (all
// errors on hostile input is a DoS) — and ajv-formats for the formats plugins may use.
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/** Which part of the request a schema checks; it starts the field name in the error ("body.runId"). */
export type RequestPart = 'params' | 'querystring' | 'body';

export interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** A request part that does not match its schema; rendered as 400 / 1001 naming the field. */
export class ValidationFailed extends Error {
  constructor(readonly part: RequestPart, readonly error: AjvError) {
    super(`${part} ${error.message ?? 'is invalid'}`);
    this.name = 'ValidationFailed';
  }
}

let ajv: Ajv | undefined;

export function compileSchema(schema: object): ValidateFunction {
  if (!ajv) {
    ajv = new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: false, addUsedSchema: false });
    addFormats.default(ajv);
  }
  return ajv.compile(schema);
}

export function validatePart(validate: ValidateFunction, part: RequestPart, value: unknown): void {
  if (!validate(value)) throw new ValidationFailed(part, (validate.errors?.[0] ?? { instancePath: '', keyword: 'invalid', params: {} }) as AjvError);
}
