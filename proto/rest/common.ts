// What every resource's REST schemas share: the API prefix and the node selector.
import { Type, type Static } from '@sinclair/typebox';

export { API_PREFIX } from '../api-prefix.js';

export const SelectorSchema = Type.Object({
  all: Type.Optional(Type.Boolean()),
  names: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { maxItems: 10000 })),
  labels: Type.Optional(Type.String({ maxLength: 4096 })),
  groups: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 1000 })),
}, { additionalProperties: false });
export type SelectorBody = Static<typeof SelectorSchema>;

/**
 * Cursor pagination, the one way every list pages (GET /nodes, /tasks, /tasks/:id/runs, /audit,
 * /events): `?limit=N&cursor=C`, where C is the `next` of the previous answer. `next` sits beside
 * `data` in the envelope (data stays the array of rows) and is null on the last page. A cursor is
 * opaque: it carries the sort key of the last row sent, so pages stay stable while rows are added.
 */
export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1000;

/** The `limit` and `cursor` query parameters, to spread into a list's query schema. */
export function pageQueryFields(defaultLimit = DEFAULT_PAGE_LIMIT) {
  return {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: defaultLimit })),
    /** The `next` of the previous page. */
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  };
}

export const PageQuery = Type.Object(pageQueryFields(), { additionalProperties: false });
export type PageQuery = Static<typeof PageQuery>;

/** One page of a list: its rows and the cursor of the next page (null: this was the last). */
export interface Page<T> { data: T[]; next: string | null }
