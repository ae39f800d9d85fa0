// The `service` kind: start, stop, restart or report a service through the host's service manager
// (service-managers.ts, detected once at start). The run's `result` is the service's state,
// `{state: active|inactive|failed|unknown, raw}`: for `status` it is the answer and the run
// succeeds whatever it is; after start/stop/restart it says where the action left the service,
// and the run fails with the command's exit code when the command failed.
import { SERVICE_ACTIONS, SERVICE_NAME_PATTERN, type ServiceParams } from '../../../proto/agent-api.js';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import type { KindExecutor, RunContext, RunOutcome } from '../kind.js';
import { CommandStopped, runCommand, type CommandResult } from '../service-command.js';
import type { Exec, ServiceManager, ServiceManagerName } from '../service-managers.js';

export interface ServiceKindOptions {
  manager: ServiceManager;
  /** Between SIGTERM and SIGKILL on timeout/cancel. */
  killGraceMs?: number;
  /** How long to keep reading after a command exited while a daemon it started holds its pipes. */
  stdioGraceMs?: number;
}

/** The name pattern is checked here too, since direct mode reaches agentd without the manager. */
export const ServiceParamsSchema = {
  type: 'object',
  required: ['action', 'name'],
  additionalProperties: false,
  properties: {
    action: { type: 'string', enum: [...SERVICE_ACTIONS] },
    name: { type: 'string', pattern: SERVICE_NAME_PATTERN },
  },
} as const;

const NAME_RE = new RegExp(SERVICE_NAME_PATTERN);

export class ServiceKind implements KindExecutor<ServiceParams> {
  readonly kind = 'service';
  readonly paramsSchema = ServiceParamsSchema;

  constructor(private readonly opts: ServiceKindOptions) {}

  get managerName(): ServiceManagerName { return this.opts.manager.name; }

  /** The executor is also called without the HTTP schema (hostd's tests, direct calls): never pass a bad name on. */
  check(params: ServiceParams): void {
    if (!SERVICE_ACTIONS.includes(params.action)) {
      throw new OpsError(ErrorCode.INVALID_ARGUMENT, `params.action must be one of ${SERVICE_ACTIONS.join(', ')}`);
    }
    if (typeof params.name !== 'string' || !NAME_RE.test(params.name)) {
      throw new OpsError(ErrorCode.INVALID_ARGUMENT, 'params.name must be a service name: letters, digits and @ _ . : -, not starting with - or .');
    }
  }

  async run(ctx: RunContext<ServiceParams>): Promise<RunOutcome> {
    const { action, name } = ctx.params;
    const { manager } = this.opts;
    const exec: Exec = (file, args) => runCommand(file, args, {
      signal: ctx.signal,
      output: (stream, data) => ctx.output(stream, data),
      killGraceMs: this.opts.killGraceMs ?? 5000,
      stdioGraceMs: this.opts.stdioGraceMs ?? 2000,
    });
    try {
      await manager.ensureKnown(name, exec);
      let done: CommandResult | undefined;
      if (action !== 'status') done = await manager.control(action, name, exec);
      const { state, raw } = await manager.state(name, exec);
      ctx.settled();
      ctx.log.info({ runId: ctx.runId, service: name, action, state, manager: manager.name }, 'service run done');
      const result = { state, raw };
      if (!done) return { exitCode: 0, result };
      const exitCode = done.code ?? -1;
      const error = exitCode === 0 ? null : `${action} ${name} failed (${done.signal ? `killed by ${done.signal}` : `exit code ${exitCode}`}); the service is ${state}`;
      return { exitCode, signal: done.signal, error, result };
    } catch (err) {
      if (err instanceof CommandStopped) return { exitCode: -1, signal: err.signal, stopped: true };
      throw err;
    }
  }
}
