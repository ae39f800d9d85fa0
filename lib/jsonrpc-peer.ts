// One end of a JSON-RPC 2.0 connection over a stream socket, one message per line.
// Both ends are peers: either may call the other, and notifications carry no id.
import type { Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import { JSONRPC_ERRORS, type JsonRpcId, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../proto/jsonrpc.js';

export type JsonRpcHandler = (params: unknown) => unknown | Promise<unknown>;

export class JsonRpcError extends Error {
  constructor(readonly code: number, message: string, readonly data?: unknown) { super(message); this.name = 'JsonRpcError'; }
}

const MAX_LINE_BYTES = 1024 * 1024;

export class JsonRpcPeer extends EventEmitter {
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<JsonRpcId, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private closed = false;

  constructor(private readonly socket: Socket, private readonly handlers: Record<string, JsonRpcHandler>) {
    super();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('close', () => this.onClose());
    socket.on('error', (err) => this.emit('socket-error', err));
  }

  get isOpen(): boolean { return !this.closed; }

  call<T = unknown>(method: string, params?: unknown, timeoutMs = 5000): Promise<T> {
    if (this.closed) return Promise.reject(new Error('JSON-RPC connection is closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`JSON-RPC ${method} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.write({ jsonrpc: '2.0', id, method, params });
    });
  }

  notify(method: string, params?: unknown): void {
    if (!this.closed) this.write({ jsonrpc: '2.0', method, params });
  }

  close(): void { this.socket.end(); }

  private write(message: JsonRpcMessage): void {
    this.socket.write(JSON.stringify(message) + '\n');
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    if (this.buffer.length > MAX_LINE_BYTES && !this.buffer.includes('\n')) {
      this.write({ jsonrpc: '2.0', id: null, error: { code: JSONRPC_ERRORS.invalidRequest, message: 'message too large' } });
      this.socket.destroy();
      return;
    }
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline).trim();
      this.buffer = this.buffer.slice(newline + 1);
      if (line) void this.onLine(line);
    }
  }

  private async onLine(line: string): Promise<void> {
    let msg: JsonRpcMessage;
    try {
      msg = JSON.parse(line) as JsonRpcMessage;
    } catch {
      this.write({ jsonrpc: '2.0', id: null, error: { code: JSONRPC_ERRORS.parse, message: 'parse error' } });
      return;
    }
    if (msg === null || typeof msg !== 'object' || msg.jsonrpc !== '2.0') {
      this.write({ jsonrpc: '2.0', id: null, error: { code: JSONRPC_ERRORS.invalidRequest, message: 'invalid request' } });
      return;
    }
    if ('method' in msg && typeof msg.method === 'string') return this.onRequest(msg);
    const res = msg as JsonRpcResponse;
    const waiting = res.id !== null && res.id !== undefined ? this.pending.get(res.id) : undefined;
    if (!waiting) return;
    this.pending.delete(res.id!);
    clearTimeout(waiting.timer);
    if (res.error) waiting.reject(new JsonRpcError(res.error.code, res.error.message, res.error.data));
    else waiting.resolve(res.result);
  }

  private async onRequest(req: JsonRpcRequest): Promise<void> {
    const handler = Object.prototype.hasOwnProperty.call(this.handlers, req.method) ? this.handlers[req.method] : undefined;
    const isNotification = req.id === undefined;
    if (!handler) {
      if (!isNotification) this.write({ jsonrpc: '2.0', id: req.id!, error: { code: JSONRPC_ERRORS.methodNotFound, message: `method not found: ${req.method}` } });
      return;
    }
    try {
      const result = await handler(req.params);
      if (!isNotification) this.write({ jsonrpc: '2.0', id: req.id!, result: result ?? null });
    } catch (err) {
      if (isNotification) { this.emit('handler-error', err); return; }
      const code = err instanceof JsonRpcError ? err.code : JSONRPC_ERRORS.internal;
      this.write({ jsonrpc: '2.0', id: req.id!, error: { code, message: (err as Error).message } });
    }
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error('JSON-RPC connection closed'));
    }
    this.pending.clear();
    this.emit('close');
  }
}
