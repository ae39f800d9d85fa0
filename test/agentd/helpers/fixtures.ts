// Shared pieces of the agentd tests: a keys file, a signed request, a quiet logger, an app, and
// small waits that poll real state (files, processes) instead of sleeping for a guessed time.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject as lightInject, type InjectOptions, type Response as InjectResponse } from 'light-my-request';
import type { AgentExecEvent, AgentExecRequest, ScriptParams } from '../../../proto/agent-api.js';
import { signRequest } from '../../../proto/signing.js';
import { createLogger } from '../../../lib/log.js';
import { AgentExecutor, type ExecutorOptions } from '../../../agentd/exec/executor.js';
import { buildAgentApp, type AgentApp } from '../../../agentd/http/app.js';
import { AllowList } from '../../../agentd/ip-allow.js';

export const KEY_ID = 'hostd';
export const SECRET = randomBytes(32).toString('hex');

export const quietLog = createLogger({ component: 'agentd-test', level: 'silent' });

export function tempDir(prefix = 'agentd-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeKeysFile(dir: string, mode = 0o600, keys: Record<string, string> = { [KEY_ID]: SECRET }): string {
  const path = join(dir, 'agent-keys.json');
  writeFileSync(path, JSON.stringify({ keys }), { mode });
  return path;
}

export function signedHeaders(method: string, path: string, body?: string, over: { timestamp?: number; nonce?: string; secret?: string; keyId?: string } = {}): Record<string, string> {
  return {
    ...signRequest({ method, path, body, keyId: over.keyId ?? KEY_ID, secret: over.secret ?? SECRET, timestamp: over.timestamp, nonce: over.nonce }),
    ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
  };
}

/** A script run as agentd's API takes it, from the flat shape the tests write: {runId, timeoutMs, script, …}. */
export function scriptRun({ runId, timeoutMs, ...params }: { runId: string; timeoutMs?: number } & ScriptParams): AgentExecRequest {
  return { runId, kind: 'script', params, ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
}

export function newExecutor(over: Partial<ExecutorOptions> = {}): AgentExecutor {
  return new AgentExecutor({ maxConcurrent: 10, defaultTimeoutMs: 30_000, outputChunkBytes: 16384, log: quietLog, ...over });
}

export function newApp(executor: AgentExecutor, allow = ['127.0.0.1/32', '::1/128']): AgentApp {
  return buildAgentApp({ executor, lookupSecret: (id) => (id === KEY_ID ? SECRET : undefined), allow: new AllowList(allow), log: quietLog });
}

/** Serves the app on a loopback port; resolves with its base URL. */
export async function listenOnLoopback(app: AgentApp): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server!.address() as { port: number }).port}`;
}

/** Ends a suite that served `app` on a socket: its runs, its connections, its temp folder. */
export async function closeServed(app: AgentApp, executor: AgentExecutor, dir: string): Promise<void> {
  await executor.shutdown(0);
  app.server?.closeAllConnections(); // undici may hold a connection that never sent a request
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}

/** Hands the app a request without a socket (light-my-request), as a client at `remoteAddress` would send it. */
export async function inject(app: AgentApp, opts: InjectOptions): Promise<InjectResponse> {
  await app.ready();
  return lightInject(app.handle, opts);
}

/** Sends a signed request through inject(); `body` is sent exactly as given when a string. */
export function injectSigned(app: AgentApp, method: 'GET' | 'POST', path: string, body?: unknown, remoteAddress = '127.0.0.1') {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return inject(app, { method, url: path, payload, headers: signedHeaders(method, path, payload), remoteAddress });
}

export function parseNdjson(text: string): AgentExecEvent[] {
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as AgentExecEvent);
}

export { isAlive } from '../../helpers/process.js';

export async function waitUntil(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const fileExists = (path: string) => () => existsSync(path);
