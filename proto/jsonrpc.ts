// JSON-RPC 2.0 between hostd and agentd over a Unix socket (mode 0600) that hostd listens on.
// Framing: one JSON message per line. Either side may send requests and notifications.
export const JSONRPC_METHODS = {
  /** agentd → hostd, notification, every heartbeat interval (30 s). */
  heartbeat: 'agent.heartbeat',
  /** hostd → agentd, request: returns AgentHealthReport. */
  health: 'agent.health',
  /** hostd → agentd, request: finish running tasks (up to a grace period) and exit. */
  shutdown: 'agent.shutdown',
} as const;

import type { AgentCapabilities } from './agent-api.js';

export interface AgentHeartbeatParams {
  version: string;
  pid: number;
  httpAddress: string;
  running: number;
  queued: number;
  uptimeSeconds: number;
  /** What agentd can run (task kinds, interpreters, service manager, plugins), for the node's facts. */
  capabilities?: AgentCapabilities;
  /**
   * Runs a previous agentd left running when it was killed, which this one ended (its run
   * ledger): hostd reports each to the manager as failed, so none stays "running" there.
   */
  lostRuns?: { runId: string; pid: number; killed: boolean }[];
}

export interface AgentHealthReport extends AgentHeartbeatParams { status: 'ok' | 'degraded' }

export type JsonRpcId = string | number;
export interface JsonRpcRequest { jsonrpc: '2.0'; id?: JsonRpcId; method: string; params?: unknown }
export interface JsonRpcResponse {
  jsonrpc: '2.0';
  id: JsonRpcId | null;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}
export type JsonRpcMessage = JsonRpcRequest | JsonRpcResponse;

/** Standard JSON-RPC 2.0 error codes. */
export const JSONRPC_ERRORS = {
  parse: -32700, invalidRequest: -32600, methodNotFound: -32601, invalidParams: -32602, internal: -32603,
} as const;
