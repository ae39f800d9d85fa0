// A signed client of one host's agentd (proto/agent-api.ts), for direct mode: every request
// carries the X-Ops-* HMAC signature of proto/signing.ts under the inventory's key id. node:http
// and node:https rather than fetch: an upload is streamed from disk with its sha256 signed in
// place of the body, and an https agentd may be verified against the inventory's own CA.
import { createReadStream } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream/promises';
import { AGENT_API, type AgentExecRequest, type AgentHealth } from '../../../proto/agent-api.js';
import { signRequest } from '../../../proto/signing.js';
import { networkReason } from '../network-errors.js';
import type { InventoryHost } from './inventory.js';

/** agentd answered with an error envelope (or something that is not one). */
export class AgentRefusal extends Error {
  constructor(readonly httpStatus: number, readonly agentMessage: string, readonly code: number | undefined) {
    super(`${agentMessage} (HTTP ${httpStatus}${code ? `, code ${code}` : ''})`);
  }
}

/** Why a request to agentd failed, in a few words (the same words as for the manager). */
export const agentNetworkReason = networkReason;

async function readText(res: IncomingMessage, limit = 64 * 1024): Promise<string> {
  let text = '';
  res.setEncoding('utf8');
  for await (const chunk of res) if (text.length < limit) text += chunk as string;
  return text;
}

/** Reads a refusal's envelope `{code, message}`. */
async function refusal(res: IncomingMessage): Promise<AgentRefusal> {
  const text = await readText(res).catch(() => '');
  let message = text.slice(0, 500).trim() || 'no message';
  let code: number | undefined;
  try {
    const env = JSON.parse(text) as { code?: unknown; message?: unknown };
    if (typeof env.message === 'string') message = env.message;
    if (typeof env.code === 'number') code = env.code;
  } catch { /* not an envelope: keep the text */ }
  return new AgentRefusal(res.statusCode ?? 0, message, code);
}

export class AgentClient {
  constructor(readonly host: InventoryHost) {}

  /** Sends a signed request; resolves with the response once its headers arrive. */
  private send(method: string, path: string, opts: { body?: string; bodyHash?: string; contentType?: string; contentLength?: number; signal?: AbortSignal; file?: string }): Promise<IncomingMessage> {
    const headers: Record<string, string> = {
      ...signRequest({ method, path, body: opts.body, bodyHash: opts.bodyHash, keyId: this.host.keyId, secret: this.host.secret }),
    };
    if (opts.contentType) headers['content-type'] = opts.contentType;
    const length = opts.body !== undefined ? Buffer.byteLength(opts.body) : opts.contentLength;
    if (length !== undefined) headers['content-length'] = String(length);
    const url = this.host.url + path;
    // agent: false: one connection per request, so no idle keep-alive socket outlives the command.
    const options: RequestOptions & { ca?: Buffer } = { method, headers, signal: opts.signal, agent: false, ...(this.host.ca ? { ca: this.host.ca } : {}) };
    const request = url.startsWith('https:') ? httpsRequest : httpRequest;
    return new Promise((resolvePromise, reject) => {
      const req = request(url, options, resolvePromise);
      req.once('error', reject);
      if (opts.file) pipeline(createReadStream(opts.file), req).catch((err: Error) => req.destroy(err));
      else req.end(opts.body);
    });
  }

  /** POST /v1/exec: the run's NDJSON event stream, or an AgentRefusal before any event. */
  async exec(run: AgentExecRequest, signal: AbortSignal): Promise<IncomingMessage> {
    const res = await this.send('POST', AGENT_API.exec, { body: JSON.stringify(run), contentType: 'application/json', signal });
    if (res.statusCode !== 200) throw await refusal(res);
    return res;
  }

  /** POST /v1/exec/<runId>/cancel; true when agentd cancelled it (false: it had already ended). */
  async cancel(runId: string, signal?: AbortSignal): Promise<boolean> {
    const res = await this.send('POST', AGENT_API.cancel(runId), { body: '{}', contentType: 'application/json', signal });
    if ((res.statusCode ?? 0) >= 300) throw await refusal(res);
    return ((JSON.parse(await readText(res)) as { data?: { cancelled?: boolean } }).data?.cancelled) === true;
  }

  /**
   * PUT /v1/exec/<runId>/content: an upload's bytes, streamed from `file` (never read whole),
   * signed with their sha256, which agentd checks them against.
   */
  async putContent(runId: string, file: string, sha256: string, size: number, signal?: AbortSignal): Promise<void> {
    const res = await this.send('PUT', AGENT_API.content(runId), { bodyHash: sha256, contentType: 'application/octet-stream', contentLength: size, file, signal });
    if ((res.statusCode ?? 0) >= 300) throw await refusal(res);
    await readText(res);
  }

  /** GET /v1/health: agentd's version, load and capabilities. */
  async health(signal?: AbortSignal): Promise<AgentHealth> {
    const res = await this.send('GET', AGENT_API.health, { signal });
    if (res.statusCode !== 200) throw await refusal(res);
    return (JSON.parse(await readText(res, Infinity)) as { data: AgentHealth }).data;
  }
}
