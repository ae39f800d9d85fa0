// agentd's executor: the run queue with every task kind registered. A new kind is one file in
// agentd/exec/kinds/ that implements KindExecutor (kind.ts), added to the list below.
import type { AgentCapabilities } from '../../proto/agent-api.js';
import type { Logger } from '../../lib/log.js';
import { AGENTD_DEFAULTS } from '../config.js';
import type { KindExecutor } from './kind.js';
import { ScriptKind, type ScriptKindOptions } from './kinds/script.js';
import { ServiceKind } from './kinds/service.js';
import type { LostRun } from './run-ledger.js';
import { RunQueue, type RunQueueOptions } from './run-queue.js';
import { detectServiceManager, type ServiceManager } from './service-managers.js';

export type { EventSink, ExitEvent } from './run-queue.js';

export interface ExecutorOptions extends RunQueueOptions, Omit<ScriptKindOptions, 'log'> {
  log: Logger;
  /** The host's service manager, detected at start (main.ts); default: detected here with `auto`. */
  serviceManager?: ServiceManager;
}

export class AgentExecutor extends RunQueue {
  private readonly script: ScriptKind;
  private readonly service: ServiceKind;

  constructor(opts: ExecutorOptions) {
    const script = new ScriptKind(opts);
    const service = new ServiceKind({ ...opts, manager: opts.serviceManager ?? detectServiceManager(AGENTD_DEFAULTS.services) });
    const kinds: KindExecutor<never>[] = [script, service];
    super(opts, kinds as KindExecutor[]);
    this.script = script;
    this.service = service;
  }

  /** Runs a previous agentd left running and this one ended (see endPreviousLives). */
  get lostRuns(): readonly LostRun[] { return this.script.lostRuns; }

  /** Ends the scripts of a previous agentd that was killed without stopping them (once). */
  endPreviousLives(): void { this.script.endPreviousLives(); }

  /** What this host can run, for the node's facts. */
  capabilities(): AgentCapabilities {
    return {
      kinds: this.executors.map((e) => e.kind),
      interpreters: this.script.available(),
      serviceManager: this.service.managerName,
      plugins: [],
      pluginErrors: [],
    };
  }
}
