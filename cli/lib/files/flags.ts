// What the files commands share: their flags beyond the selector, the check of a remote path, and
// the run itself (kind `file`, through runTask like every command that acts on nodes).
import { Flags } from '@oclif/core';
import type { CreateTaskRequest, FileTaskParams } from '../../../proto/rest/tasks.js';
import { UsageError } from '../errors.js';
import { durationSeconds } from '../flags.js';
import { runTask, type RunTaskResult } from '../tasks/run-task.js';
import type { TaskFiles, TaskRunner } from '../tasks/runner.js';
import { buildSelector, selectorFlags, type SelectorFlags } from '../tasks/selector.js';

export const fileTaskFlags = {
  ...selectorFlags,
  timeout: Flags.string({ description: 'Give up on nodes still busy after this long: 90s, 5m, 1h (default: the manager\'s, 5m).', helpValue: 'DURATION' }),
  json: Flags.boolean({ description: 'Print the task events as NDJSON instead of prefixed lines.' }),
};

/** Remote paths are absolute; agentd checks them against its files.roots. */
export function remotePath(value: string | undefined, what: string, example: string): string {
  if (!value) throw new UsageError(`give ${what} (e.g. '${example}')`);
  if (!value.startsWith('/')) throw new UsageError(`${what} must be an absolute path on the nodes, got "${value}"`);
  return value;
}

export interface FileTaskInput {
  names: string[];
  flags: SelectorFlags & { timeout?: string; json: boolean };
  file: FileTaskParams;
  local?: TaskFiles;
}

export async function runFileTask(runner: TaskRunner, input: FileTaskInput, note: (t: string) => void): Promise<RunTaskResult> {
  const body: CreateTaskRequest = { selector: buildSelector(input.names, input.flags), kind: 'file', file: input.file };
  if (input.flags.timeout !== undefined) body.timeoutSeconds = durationSeconds('--timeout', input.flags.timeout, 1, 7 * 86400);
  return runTask(runner, body, { json: input.flags.json, note, files: input.local });
}

