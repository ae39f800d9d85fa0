// What every `opsctl services` command shares: NAME checked against the same pattern agentd
// enforces (a fast, clear error; nothing is sent), the request `{selector, kind: 'service',
// service: {action, name}}`, and running it through runTask like `tasks run`, keeping each node's
// `result` (its service state) from the exit events.
import { Args, Flags } from '@oclif/core';
import { SERVICE_NAME_PATTERN, type ServiceAction } from '../../../proto/agent-api.js';
import type { CreateTaskRequest, RunStatus, TaskStreamEvent } from '../../../proto/rest/tasks.js';
import { UsageError } from '../errors.js';
import { durationSeconds } from '../flags.js';
import { runTask, type RunTaskOptions } from '../tasks/run-task.js';
import type { TaskRunner } from '../tasks/runner.js';
import { buildSelector, selectorFlags, type SelectorFlags } from '../tasks/selector.js';

export const serviceArgs = {
  name: Args.string({ description: 'Service name, e.g. nginx or nginx.service: letters, digits and @ _ . : -, not starting with - or .', required: true }),
};

export const serviceFlags = {
  ...selectorFlags,
  timeout: Flags.string({ description: 'Stop the action on nodes still busy after this long: 90s, 5m, 1h (default: the manager\'s, 5m).', helpValue: 'DURATION' }),
  json: Flags.boolean({ description: 'Print the runs as JSON, each with its result {state, raw}, instead of lines.' }),
};

export interface ServiceFlags extends SelectorFlags {
  timeout?: string;
}

const NAME_RE = new RegExp(SERVICE_NAME_PATTERN);

/** A name agentd would refuse is a usage error here, before anything is sent. */
export function checkServiceName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw new UsageError(`service name ${JSON.stringify(name)} is not allowed: use 1 to 200 letters, digits and @ _ . : -, not starting with - or .`);
  }
  return name;
}

export function serviceTaskRequest(action: ServiceAction, name: string, nodes: string[], flags: ServiceFlags): CreateTaskRequest {
  const service = { action, name: checkServiceName(name) };
  const body: CreateTaskRequest = { selector: buildSelector(nodes, flags), kind: 'service', service };
  if (flags.timeout !== undefined) body.timeoutSeconds = durationSeconds('--timeout', flags.timeout, 1, 7 * 86400);
  return body;
}

export type ServiceState = 'active' | 'inactive' | 'failed' | 'unknown';

/** One node's run as `--json` prints it. */
export interface ServiceRun {
  runId: string;
  node: string;
  status: RunStatus;
  exitCode: number | null;
  error: string | null;
  errorCode: number | null;
  /** `{state, raw}` from agentd; null when the run ended without one (unknown service, timeout). */
  result: { state: ServiceState; raw: string } | null;
}

/**
 * Runs the request like `tasks run` (same summary on stderr, same follow and errors); `quiet`
 * leaves the commands' output lines out. Returns every node's run, sorted by node.
 */
export async function runServiceTask(runner: TaskRunner, body: CreateTaskRequest, opts: Pick<RunTaskOptions, 'note'> & { quiet: boolean }): Promise<{ runs: ServiceRun[]; allSucceeded: boolean }> {
  const exits = new Map<string, Extract<TaskStreamEvent, { type: 'exit' }>>();
  const { printer, allSucceeded } = await runTask(runner, body, {
    json: false,
    quiet: opts.quiet,
    note: opts.note,
    onEvent: (ev) => { if (ev.type === 'exit') exits.set(ev.runId, ev); },
  });
  const runs = [...printer.runs.entries()].map(([runId, r]): ServiceRun => {
    const exit = exits.get(runId);
    return {
      runId, node: r.node, status: r.status, exitCode: r.exitCode, error: r.error,
      errorCode: exit?.errorCode ?? null,
      result: (exit?.result as ServiceRun['result'] | null | undefined) ?? null,
    };
  });
  runs.sort((a, b) => a.node.localeCompare(b.node));
  return { runs, allSucceeded };
}
