// Response schemas and helpers for the standard envelope {code, message, data, timestamp}.
import { Type, type TSchema } from '@sinclair/typebox';
import { envelope, type Envelope } from '../../proto/errors.js';

export function envelopeOf<T extends TSchema>(data: T) {
  return Type.Object({
    code: Type.Integer(),
    message: Type.String(),
    data,
    timestamp: Type.String({ format: 'date-time' }),
  });
}

/** The envelope of every error response (documented in OpenAPI; `data` carries details or null). */
export const ErrorEnvelope = envelopeOf(Type.Union([Type.Null(), Type.Record(Type.String(), Type.Unknown())]));

export function ok<T>(data: T): Envelope<T> {
  return envelope(data);
}
