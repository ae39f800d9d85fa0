// Response schemas and helpers for the standard envelope {code, message, data, timestamp}.
import { Type, type TSchema } from '@sinclair/typebox';
import { envelope, type Envelope } from '../../proto/errors.js';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, type Page } from '../../proto/rest/common.js';

export function envelopeOf<T extends TSchema>(data: T) {
  return Type.Object({
    code: Type.Integer(),
    message: Type.String(),
    data,
    timestamp: Type.String({ format: 'date-time' }),
  });
}

/** A page of a list: the envelope with `data` the page's rows and `next` the cursor of the next page (null at the end). */
export function pageEnvelopeOf<T extends TSchema>(row: T) {
  return Type.Object({
    code: Type.Integer(),
    message: Type.String(),
    data: Type.Array(row),
    next: Type.Union([Type.String(), Type.Null()]),
    timestamp: Type.String({ format: 'date-time' }),
  });
}

/** The sentence every paged route's description carries. */
export function pagingNote(rows: string, defaultLimit = DEFAULT_PAGE_LIMIT): string {
  return `Pages of \`limit\` ${rows} (default ${defaultLimit}, at most ${MAX_PAGE_LIMIT}); pass \`next\` as \`cursor\` for the next page (null: the last).`;
}

/** The envelope of every error response (documented in OpenAPI; `data` carries details or null). */
export const ErrorEnvelope = envelopeOf(Type.Union([Type.Null(), Type.Record(Type.String(), Type.Unknown())]));

export function ok<T>(data: T): Envelope<T> {
  return envelope(data);
}

export function okPage<T>(page: Page<T>): Envelope<T[]> & { next: string | null } {
  return { ...envelope(page.data), next: page.next };
}
