// agentd's HTTP API, called by hostd (and by opsctl in direct mode) with signed requests
// (proto/signing.ts). Bodies are JSON; POST /v1/exec answers with NDJSON, one AgentExecEvent a line,
// streamed as the run produces output, ending with an `exit` event.
//
// Every task kind travels the same way: `{runId, kind, timeoutMs, params}`, where `params` is the
// kind's message of the host link's Dispatch (proto/hostlink/v1/hostlink.proto) as JSON. An
// upload's content follows in PUT /v1/exec/<runId>/content, signed with the content's sha256 as
// its body hash, so agentd checks the bytes it writes against what the signature covers.
//
// Every event of a run but `queued` carries `seq` (1, 2, 3…). agentd keeps a run's events while it
// runs and for a while after it ends; GET /v1/exec/<runId>/events?after=N streams those after seq N,
// then the live ones, so hostd re-attaches to a run whose stream broke instead of starting it again
// (a second POST of a run id agentd has or had is refused with 409).
import type { InterpreterName as Interpreter } from './interpreters.js';

export const AGENT_API = {
  health: '/v1/health',
  exec: '/v1/exec',
  cancel: (runId: string) => `/v1/exec/${encodeURIComponent(runId)}/cancel`,
  content: (runId: string) => `/v1/exec/${encodeURIComponent(runId)}/content`,
  /** A run's events with seq > `after`, then its live ones (re-attaching after a lost stream). */
  events: (runId: string, after: number) => `/v1/exec/${encodeURIComponent(runId)}/events?after=${after}`,
} as const;

/** The kinds agentd runs itself; plugins add theirs under kind `plugin`. */
export const TASK_KINDS = ['script', 'file', 'service', 'plugin'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

export const FILE_OPS = ['upload', 'download', 'copy', 'delete'] as const;
export type FileOp = (typeof FILE_OPS)[number];
export const SERVICE_ACTIONS = ['start', 'stop', 'restart', 'status'] as const;
export type ServiceAction = (typeof SERVICE_ACTIONS)[number];

/** A service name: letters, digits and @ _ . : - (systemd's set), not starting with - or . — no shell, no paths. */
export const SERVICE_NAME_PATTERN = '^[A-Za-z0-9@_:][A-Za-z0-9@_.:-]{0,199}$';
/** A plugin's name: lower case letters, digits and dashes. */
export const PLUGIN_NAME_PATTERN = '^[a-z0-9][a-z0-9-]{0,63}$';
/** A plugin parameter's name. */
export const PLUGIN_PARAM_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,63}$';
/** Permission bits in octal, e.g. 644 or 0644. */
export const FILE_MODE_PATTERN = '^0?[0-7]{3,4}$';
/** user, user:group, or numeric ids. */
export const FILE_OWNER_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,31})?$';

export interface ScriptParams { script: string; interpreter?: Interpreter; env?: Record<string, string> }
export interface FileParams {
  op: FileOp; path: string; dest?: string; recursive?: boolean;
  sha256?: string; size?: number; mode?: string; owner?: string; maxBytes?: number;
}
export interface ServiceParams { action: ServiceAction; name: string }
export interface PluginParams { name: string; params?: Record<string, string> }

export interface KindParams { script: ScriptParams; file: FileParams; service: ServiceParams; plugin: PluginParams }

export type AgentExecRequest = {
  [K in TaskKind]: { runId: string; kind: K; timeoutMs?: number; params: KindParams[K] }
}[TaskKind];

/** What agentd finds it can do on its host, for the node's facts. */
export interface AgentCapabilities {
  kinds: string[];
  /** Interpreters whose command is on agentd's PATH. */
  interpreters: string[];
  serviceManager: 'systemd' | 'sysv' | 'launchd' | 'none';
  /** Loaded plugins as name@version. */
  plugins: string[];
  /** Plugins that failed to load, with why. */
  pluginErrors: { dir: string; error: string }[];
}

export interface AgentHealth extends AgentCapabilities {
  status: 'ok';
  version: string;
  pid: number;
  uptimeSeconds: number;
  running: number;
  queued: number;
  maxConcurrent: number;
}

export type RunResultStatus = 'succeeded' | 'failed' | 'timeout' | 'cancelled' | 'error';

/**
 * A run's events carry `seq` 1, 2, 3… in the order they happened (`queued` has none: it is not
 * relayed); a reader that re-attaches asks for the events after the last seq it has.
 */
export type AgentExecEvent = (
  | { type: 'queued'; runId: string; position: number }
  | { type: 'started'; runId: string; pid: number; atMs: number }
  | { type: 'output'; runId: string; stream: 'stdout' | 'stderr'; data: string; atMs: number }
  /** A piece of a downloaded file, base64, in order. */
  | { type: 'data'; runId: string; offset: number; data: string }
  | {
      type: 'exit'; runId: string; atMs: number; exitCode: number; signal: string | null; durationMs: number;
      status: RunResultStatus; error: string | null;
      /** proto/errors.ts code of `error` (1003: path outside files.roots), when it has one. */
      errorCode?: number;
      /** Kind-specific result: a service's normalised state, a file's sha256 and size, a plugin's report. */
      result?: Record<string, unknown>;
    }
) & { seq?: number };

/**
 * Why a run a killed agentd left behind ended, said the same way whether the next agentd's run
 * ledger reports it (heartbeat) or hostd asks for the run's events and agentd answers it is lost.
 */
export function lostRunMessage(killed: boolean): string {
  return killed
    ? 'agentd was killed while this ran; the next agentd ended the run (it may have done part of its work)'
    : 'agentd was killed while this ran; the run had ended by the time the next agentd looked, with its result unknown';
}
