// The one table of opsctl exit codes. Scripts rely on these; add a code only when a script needs
// to tell a case apart, and never reuse a number for something else.
export const ExitCode = {
  /** Everything asked for was done (every targeted node succeeded). */
  OK: 0,
  /** The operation failed: the manager refused it, could not be reached, or a node failed. */
  FAILURE: 1,
  /** The command line was wrong (unknown flag, bad selector, missing argument); nothing was sent. */
  USAGE: 2,
  /** Interrupted by Ctrl-C (128 + SIGINT): a task being followed was cancelled (or left cancelling, after a second Ctrl-C). */
  INTERRUPTED: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** What each code means, for `--help`-style docs and the man page (scripts/gen-man.ts). */
export const EXIT_CODE_MEANINGS: Record<ExitCodeValue, string> = {
  [ExitCode.OK]: 'Success; for tasks run, every targeted node succeeded (nodes still queued with --queue are not failures yet).',
  [ExitCode.FAILURE]: 'Failure: the manager refused the request or could not be reached, or (tasks run) a node failed, timed out, did not answer, was offline, skipped, expired in the queue or lost.',
  [ExitCode.USAGE]: 'Usage error: unknown flag or command, invalid selector, missing argument. Nothing was sent to the manager.',
  [ExitCode.INTERRUPTED]: 'Interrupted by Ctrl-C: the task being followed was cancelled on its nodes (after a second Ctrl-C, opsctl left without waiting and the task may still be cancelling).',
};
