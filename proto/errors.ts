// The one table of error codes (DESIGN.md §5), used by the manager, agentd, opsctl and the web.
// A code is stable forever; the HTTP status and default message travel with it.

export const ErrorCode = {
  OK: 0,
  INVALID_ARGUMENT: 1001,
  UNAUTHENTICATED: 1002,
  FORBIDDEN: 1003,
  NOT_FOUND: 1004,
  CONFLICT: 1005,
  RATE_LIMITED: 1006,
  NODE_OFFLINE: 2001,
  NO_MATCHING_NODES: 2002,
  TASK_NOT_RUNNABLE: 2003,
  RELEASE_SIGNATURE_INVALID: 3001,
  RELEASE_KEY_UNTRUSTED: 3002,
  RELEASE_HASH_MISMATCH: 3003,
  RELEASE_NOT_NEWER: 3004,
  RELEASE_EXPIRED: 3005,
  RELEASE_TOO_LARGE: 3006,
  RELEASE_INCOMPATIBLE: 3007,
  ROLLOUT_ACTIVE: 3010,
  UPDATE_UNSUPPORTED: 3011,
  UPDATE_BUSY: 3012,
  UPDATE_UNHEALTHY: 3013,
  INTERNAL: 5000,
  UNAVAILABLE: 5003,
} as const;

export type ErrorCodeName = keyof typeof ErrorCode;
export type ErrorCodeValue = (typeof ErrorCode)[ErrorCodeName];

export interface ErrorSpec { httpStatus: number; message: string }

export const ERRORS: Record<ErrorCodeValue, ErrorSpec> = {
  0: { httpStatus: 200, message: 'ok' },
  1001: { httpStatus: 400, message: 'invalid argument' },
  1002: { httpStatus: 401, message: 'unauthenticated' },
  1003: { httpStatus: 403, message: 'forbidden' },
  1004: { httpStatus: 404, message: 'not found' },
  1005: { httpStatus: 409, message: 'conflict' },
  1006: { httpStatus: 429, message: 'rate limited' },
  2001: { httpStatus: 409, message: 'node is offline' },
  2002: { httpStatus: 422, message: 'no node matches the selector' },
  2003: { httpStatus: 409, message: 'task cannot run' },
  3001: { httpStatus: 400, message: 'release signature is not valid' },
  3002: { httpStatus: 400, message: 'release is signed by a key that is not trusted' },
  3003: { httpStatus: 400, message: 'release bundle does not match its manifest' },
  3004: { httpStatus: 409, message: 'release is not newer than the running version' },
  3005: { httpStatus: 400, message: 'release manifest has expired' },
  3006: { httpStatus: 413, message: 'release bundle is larger than its manifest declares' },
  3007: { httpStatus: 400, message: 'release is not for this platform' },
  3010: { httpStatus: 409, message: 'a rollout is already active' },
  3011: { httpStatus: 409, message: 'this host cannot update itself (not installed from a host bundle)' },
  3012: { httpStatus: 409, message: 'this host is already updating' },
  3013: { httpStatus: 500, message: 'the new version did not pass its health check' },
  5000: { httpStatus: 500, message: 'internal error' },
  5003: { httpStatus: 503, message: 'service unavailable' },
};

/** An error that carries its code; every HTTP server here renders it as the standard envelope. */
export class OpsError extends Error {
  readonly code: ErrorCodeValue;
  readonly httpStatus: number;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCodeValue, message?: string, details?: Record<string, unknown>) {
    super(message ?? ERRORS[code].message);
    this.name = 'OpsError';
    this.code = code;
    this.httpStatus = ERRORS[code].httpStatus;
    this.details = details;
  }
}

/** The response envelope of every REST endpoint: `{code, message, data, timestamp}`. */
export interface Envelope<T = unknown> {
  code: number;
  message: string;
  data: T;
  timestamp: string;
}

export function envelope<T>(data: T, code: ErrorCodeValue = ErrorCode.OK, message?: string): Envelope<T> {
  return { code, message: message ?? ERRORS[code].message, data, timestamp: new Date().toISOString() };
}
