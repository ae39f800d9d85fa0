// The shape of agentd's HTTP routes: a method, a path with `:name` segments, the schemas of its
// parts, and a handler that answers with an envelope's data or an NDJSON stream.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

export interface AgentRequest {
  raw: IncomingMessage;
  res: ServerResponse;
  method: string;
  /** The URL as sent, query included: what the signature covers. */
  url: string;
  params: Record<string, string>;
  query: Record<string, string>;
  /** Parsed JSON after the signature holds; a Readable for application/octet-stream; undefined when empty. */
  body: unknown;
  /** The key id that signed the request. */
  signedBy?: string;
  /** X-Ops-Content-Sha256 of a streamed body (an upload), which its reader must check. */
  signedBodyHash?: string;
}

export type RouteReply =
  | { data: unknown; status?: number }
  /** NDJSON, one event a line, until the stream ends. */
  | { ndjson: Readable };

export interface Route {
  method: 'GET' | 'POST' | 'PUT';
  /** `/v1/exec/:runId/events` */
  path: string;
  schema?: { params?: object; querystring?: object; body?: object };
  handler: (request: AgentRequest) => Promise<RouteReply>;
}
