// Keyset pages for every list route (proto/rest/common.ts describes the API side). A cursor is the
// base64url JSON of the sort key of the last row sent; the service reads `limit + 1` rows after it,
// so whether another page exists is known without counting. The cursor only says where to resume:
// scope and filters are applied again on every page, so no cursor can reach rows a caller may not see.
import { ErrorCode, OpsError } from '../../proto/errors.js';
import type { Page } from '../../proto/rest/common.js';

export type CursorKey = (string | number)[];
export type CursorShape = readonly ('string' | 'number')[];

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** The sort key a cursor carries, checked against the list's key shape; 1001 for anything else. */
export function decodeCursor<K extends CursorKey>(cursor: string | undefined, shape: CursorShape): K | undefined {
  if (cursor === undefined) return undefined;
  let key: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  const fits = Array.isArray(key) && key.length === shape.length &&
    key.every((v, i) => typeof v === shape[i] && (typeof v !== 'number' || Number.isSafeInteger(v)));
  if (!fits) throw new OpsError(ErrorCode.INVALID_ARGUMENT, 'cursor: not a cursor this list gave; pass the `next` of the previous page unchanged, or leave cursor out for the first page');
  return key as K;
}

/** 1001 unless a cursor's time is a valid date (tasks and events page by time). */
export function cursorDate(iso: string): Date {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) throw new OpsError(ErrorCode.INVALID_ARGUMENT, 'cursor: not a cursor this list gave; pass the `next` of the previous page unchanged');
  return at;
}

/** The page from up to `limit + 1` rows read after the cursor: the extra row only says that more follow. */
export function pageOf<T>(rows: T[], limit: number, keyOf: (row: T) => CursorKey): Page<T> {
  if (rows.length <= limit) return { data: rows, next: null };
  const data = rows.slice(0, limit);
  return { data, next: encodeCursor(keyOf(data[data.length - 1])) };
}
