// The `plugin` kind: runs one of the executor plugins loaded from plugins.dir (agentd/plugins/).
// Its parameters are checked against the plugin's manifest before the run is queued. The plugin
// runs inside agentd, so what it does wrong must stay its own run's problem: a throw or rejection
// fails only that run, output after the run ended is dropped, and a plugin that ignores the
// abort signal is let go at the timeout (its late result is ignored).
import type { PluginParams } from '../../../proto/agent-api.js';
import { PLUGIN_NAME_PATTERN, PLUGIN_PARAM_PATTERN } from '../../../proto/agent-api.js';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import type { PluginContext, PluginSet } from '../../plugins/loader.js';
import { convertParams } from '../../plugins/params.js';
import type { KindExecutor, RunContext, RunOutcome } from '../kind.js';

export const PluginParamsSchema = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: PLUGIN_NAME_PATTERN },
    params: {
      type: 'object',
      additionalProperties: false,
      patternProperties: { [PLUGIN_PARAM_PATTERN]: { type: 'string', maxLength: 65536 } },
    },
  },
} as const;

const STATUSES = ['succeeded', 'failed', 'error'];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class PluginKind implements KindExecutor<PluginParams> {
  readonly kind = 'plugin';
  readonly paramsSchema = PluginParamsSchema;

  constructor(private readonly set: PluginSet) {}

  /** Loaded plugins as name@version, for the node's facts. */
  loaded(): string[] {
    return [...this.set.plugins.values()].map((p) => `${p.manifest.name}@${p.manifest.version}`).sort();
  }

  get errors(): PluginSet['errors'] { return this.set.errors; }

  check(params: PluginParams): void {
    this.prepare(params);
  }

  async run(ctx: RunContext<PluginParams>): Promise<RunOutcome> {
    const { plugin, values } = this.prepare(ctx.params);
    const name = plugin.manifest.name;
    let over = false;
    const pluginCtx: PluginContext = {
      runId: ctx.runId,
      signal: ctx.signal,
      timeoutMs: ctx.timeoutMs,
      log: ctx.log.child({ plugin: name, runId: ctx.runId }),
      output: (stream, text) => {
        if (over) return;
        if (stream !== 'stdout' && stream !== 'stderr') throw new TypeError(`ctx.output: stream must be 'stdout' or 'stderr', got ${String(stream)}`);
        ctx.output(stream, String(text));
      },
    };
    const finished = new Promise<RunOutcome>((resolve) => {
      let result: unknown;
      try {
        result = plugin.run(values, pluginCtx);
      } catch (err) {
        resolve(failure(name, err));
        return;
      }
      Promise.resolve(result).then((r) => resolve(outcomeOf(name, r)), (err: unknown) => resolve(failure(name, err)));
    });
    // Timeout or cancel: the run ends now, whether or not the plugin listens to the signal.
    let onAbort!: () => void;
    const aborted = new Promise<RunOutcome>((resolve) => {
      onAbort = () => resolve({ exitCode: -1, stopped: true });
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([finished, aborted]);
    } finally {
      over = true;
      ctx.signal.removeEventListener('abort', onAbort);
    }
  }

  private prepare(params: PluginParams) {
    const plugin = this.set.plugins.get(params.name);
    if (!plugin) {
      const have = this.loaded();
      throw new OpsError(ErrorCode.INVALID_ARGUMENT, `no plugin "${params.name}" on this host (loaded: ${have.length > 0 ? have.join(', ') : 'none'})`, { field: 'params.name' });
    }
    const converted = convertParams(plugin.manifest, params.params);
    if ('problems' in converted) {
      throw new OpsError(ErrorCode.INVALID_ARGUMENT, `plugin ${params.name}: ${converted.problems.join('; ')}`, { field: 'params.params' });
    }
    return { plugin, values: converted.values };
  }
}

function failure(name: string, err: unknown): RunOutcome {
  const message = err instanceof Error ? err.message : String(err);
  return { exitCode: -1, status: 'error', error: `plugin ${name} failed: ${message}` };
}

/** What the plugin returned, checked: `{exitCode, status?, error?, result?}`. */
function outcomeOf(name: string, r: unknown): RunOutcome {
  const bad = (why: string): RunOutcome => ({ exitCode: -1, status: 'error', error: `plugin ${name} returned ${why}; expected {exitCode, status?, error?, result?}` });
  if (!isObject(r)) return bad(r === undefined ? 'nothing' : 'a non-object');
  if (!Number.isInteger(r.exitCode)) return bad(`exitCode ${JSON.stringify(r.exitCode)} (must be a whole number)`);
  if (r.status !== undefined && !STATUSES.includes(r.status as string)) return bad(`status ${JSON.stringify(r.status)} (must be one of ${STATUSES.join(', ')})`);
  if (r.error !== undefined && r.error !== null && typeof r.error !== 'string') return bad('an error that is not a string');
  let result: Record<string, unknown> | undefined;
  if (r.result !== undefined) {
    if (!isObject(r.result)) return bad('a result that is not an object');
    try {
      // Only what survives JSON reaches the caller; a cycle or a BigInt is the plugin's error.
      result = JSON.parse(JSON.stringify(r.result)) as Record<string, unknown>;
    } catch (err) {
      return bad(`a result that is not JSON (${(err as Error).message})`);
    }
  }
  return {
    exitCode: r.exitCode as number,
    ...(r.status !== undefined ? { status: r.status as RunOutcome['status'] } : {}),
    ...(typeof r.error === 'string' ? { error: r.error } : {}),
    ...(result ? { result } : {}),
  };
}
