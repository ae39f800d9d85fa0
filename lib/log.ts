// pino JSON logs with time, level, component and message. Anything that could carry a secret is
// redacted by key name wherever it appears, so a careless `log.info({req})` cannot leak a token.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'password', 'token', 'secret', 'key', 'privateKey', 'authorization', 'jwt', 'csrPem',
  '*.password', '*.token', '*.secret', '*.key', '*.privateKey', '*.authorization', '*.jwt',
  'req.headers.authorization', 'req.headers["x-ops-signature"]', 'headers.authorization',
];

export interface LogOptions {
  component: string;
  level?: string;
  /** Defaults to stdout; tests pass a stream to read what was logged. */
  destination?: NodeJS.WritableStream;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function createLogger(opts: LogOptions): Logger {
  const level = (opts.level ?? 'info') as LevelWithSilent;
  if (!LEVELS.includes(level)) throw new Error(`invalid log level "${opts.level}": use one of ${LEVELS.join(', ')}`);
  return pino(
    {
      level,
      base: { component: opts.component, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    (opts.destination ?? pino.destination({ fd: 1, sync: false })) as pino.DestinationStream,
  );
}
