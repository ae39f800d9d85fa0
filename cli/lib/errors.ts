// Errors the base command knows how to print: each carries the exit code it maps to, so commands
// throw and never call process.exit themselves.
import { ExitCode, type ExitCodeValue } from './exit-codes.js';

export class CliError extends Error {
  readonly exitCode: ExitCodeValue;
  constructor(message: string, exitCode: ExitCodeValue = ExitCode.FAILURE) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** The command line is wrong; nothing was sent to the manager. Exit 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.USAGE);
    this.name = 'UsageError';
  }
}

/** The manager answered with an error envelope. */
export class ApiError extends CliError {
  readonly code: number;
  readonly httpStatus: number;
  constructor(message: string, code: number, httpStatus: number) {
    super(`${message} (code ${code})`);
    this.name = 'ApiError';
    this.code = code;
    this.httpStatus = httpStatus;
  }
}

/** The manager could not be reached at all (refused, DNS, TLS, timeout). */
export class UnreachableError extends CliError {
  constructor(readonly server: string, readonly reason: string) {
    super(`cannot reach the manager at ${server} (${reason})`);
    this.name = 'UnreachableError';
  }
}
