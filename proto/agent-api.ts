// agentd's HTTP API, called by hostd (and by opsctl in serverless mode) with signed requests
// (proto/signing.ts). Bodies are JSON; POST /v1/exec answers with NDJSON, one AgentExecEvent a line,
// streamed as the process produces output, ending with an `exit` event.
import type { Interpreter } from './rest/tasks.js';

export const AGENT_API = {
  health: '/v1/health',
  exec: '/v1/exec',
  cancel: (runId: string) => `/v1/exec/${encodeURIComponent(runId)}/cancel`,
} as const;

export interface AgentHealth {
  status: 'ok';
  version: string;
  pid: number;
  uptimeSeconds: number;
  running: number;
  queued: number;
  maxConcurrent: number;
}

export interface AgentExecRequest {
  runId: string;
  script: string;
  interpreter?: Interpreter;
  timeoutMs?: number;
  env?: Record<string, string>;
}

export type AgentExecEvent =
  | { type: 'queued'; runId: string; position: number }
  | { type: 'started'; runId: string; pid: number; atMs: number }
  | { type: 'output'; runId: string; stream: 'stdout' | 'stderr'; data: string; atMs: number }
  | {
      type: 'exit'; runId: string; atMs: number; exitCode: number; signal: string | null; durationMs: number;
      status: 'succeeded' | 'failed' | 'timeout' | 'cancelled' | 'error'; error: string | null;
    };
