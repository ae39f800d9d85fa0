// agentd's executor: the run queue with every task kind registered. A new kind is one file in
// agentd/exec/kinds/ that implements KindExecutor (kind.ts), added to the list below.
import type { AgentCapabilities } from '../../proto/agent-api.js';
import type { Logger } from '../../lib/log.js';
import type { PluginSet } from '../plugins/loader.js';
import { AGENTD_DEFAULTS } from '../config.js';
import type { KindExecutor } from './kind.js';
import { FileKind } from './kinds/file.js';
import { PluginKind } from './kinds/plugin.js';
import { ScriptKind, type ScriptKindOptions } from './kinds/script.js';
import { ServiceKind } from './kinds/service.js';
import type { LostRun } from './run-ledger.js';
import { RunQueue, type RunQueueOptions } from './run-queue.js';
import { detectServiceManager, type ServiceManager } from './service-managers.js';

export type { EventSink, ExitEvent } from './run-queue.js';

export interface ExecutorOptions extends RunQueueOptions, Omit<ScriptKindOptions, 'log'> {
  log: Logger;
  /** Folders file tasks may touch (files.roots); none: every file task is refused. */
  fileRoots?: readonly string[];
  /** files.minFreeBytes. */
  minFreeBytes?: number;
  /** Executor plugins loaded from plugins.dir (agentd/plugins/loader.ts); none when absent. */
  plugins?: PluginSet;
  /** The host's service manager, detected at start (main.ts); default: detected here with `auto`. */
  serviceManager?: ServiceManager;
}

export class AgentExecutor extends RunQueue {
  private readonly script: ScriptKind;
  private readonly plugin: PluginKind;
  private readonly service: ServiceKind;

  constructor(opts: ExecutorOptions) {
    const script = new ScriptKind(opts);
    const files = new FileKind({ roots: opts.fileRoots ?? [], minFreeBytes: opts.minFreeBytes ?? 0, ledger: opts.ledger });
    const service = new ServiceKind({ ...opts, manager: opts.serviceManager ?? detectServiceManager(AGENTD_DEFAULTS.services) });
    const plugin = new PluginKind(opts.plugins ?? { plugins: new Map(), errors: [] });
    const kinds: KindExecutor<never>[] = [script, files, service, plugin];
    super(opts, kinds as KindExecutor[]);
    this.script = script;
    this.service = service;
    this.plugin = plugin;
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
      plugins: this.plugin.loaded(),
      pluginErrors: this.plugin.errors,
    };
  }
}
