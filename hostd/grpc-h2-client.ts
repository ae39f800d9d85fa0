// A small gRPC client over node:http2, all that hostd needs of one: unary, server-streaming and
// bidirectional calls on one HTTP/2 session per channel (mutual TLS), deadlines, cancellation,
// keepalive pings, and status codes as grpc-js reports them. hostd used grpc-js, whose code alone
// kept ~3.4 MB of private memory per process and whose channel machinery (subchannel pools, name
// resolution, load balancing, retries, channelz) hostd never used; the manager's grpc-js server is
// the only peer, and this speaks the standard wire protocol (PROTOCOL-HTTP2.md in grpc/grpc) to it.
// Message (de)serialisation is the caller's: calls take a method's path and codecs.
import * as http2 from 'node:http2';
import { isIP } from 'node:net';
import { Duplex, Readable } from 'node:stream';
import type { SecureContext } from 'node:tls';
import { Backoff } from './backoff.js';

/** gRPC status codes, numbered and named as grpc-js's `status` (so `status[code]` reads the same in logs). */
export enum Status {
  OK = 0, CANCELLED = 1, UNKNOWN = 2, INVALID_ARGUMENT = 3, DEADLINE_EXCEEDED = 4, NOT_FOUND = 5,
  ALREADY_EXISTS = 6, PERMISSION_DENIED = 7, RESOURCE_EXHAUSTED = 8, FAILED_PRECONDITION = 9, ABORTED = 10,
  OUT_OF_RANGE = 11, UNIMPLEMENTED = 12, INTERNAL = 13, UNAVAILABLE = 14, DATA_LOSS = 15, UNAUTHENTICATED = 16,
}
export { Status as status };

/** How a call ended. */
export interface StatusObject {
  code: Status;
  details: string;
}

/** A failed call, as grpc-js hands it to callbacks and 'error' listeners. */
export class ServiceError extends Error implements StatusObject {
  constructor(readonly code: Status, readonly details: string) {
    super(`${code} ${Status[code]}: ${details}`);
    this.name = 'ServiceError';
  }
}

export interface CallOptions {
  /** When the call fails with DEADLINE_EXCEEDED (ms since the epoch); also sent as grpc-timeout. */
  deadline?: number | Date;
}

export interface ChannelOptions {
  /** PING the manager this often, calls or not (a dead peer or NAT mapping is otherwise never noticed). */
  keepaliveMs: number;
  /** An unanswered PING ends the session (its calls end UNAVAILABLE). */
  keepaliveTimeoutMs: number;
  /** Larger received messages end the call with RESOURCE_EXHAUSTED. */
  maxReceiveBytes: number;
  /** HTTP/2 receive window, per stream and for the session. */
  windowBytes: number;
  /** waitForReady's retries of a failed connection: from this… */
  reconnectMinMs: number;
  /** …up to this. */
  reconnectMaxMs: number;
  userAgent: string;
}

export interface ChannelTls {
  secureContext: SecureContext;
  /** TLS SNI; by default the address's host name (none for an IP address, which SNI cannot carry). */
  servername?: string;
}

/** A method's path and its messages' codecs. */
export interface MethodCodec<Req, Res> {
  path: string;
  serialize: (value: Req) => Buffer;
  deserialize: (bytes: Buffer) => Res;
}

/** The 5-byte prefix of every message: compressed flag, then the length (big-endian). */
const PREFIX_BYTES = 5;

/** RST_STREAM codes, and the status grpc-js gives a stream that ended with one and no gRPC status. */
const RST_STATUS: Record<number, StatusObject> = {
  [http2.constants.NGHTTP2_REFUSED_STREAM]: { code: Status.UNAVAILABLE, details: 'Stream refused by server' },
  [http2.constants.NGHTTP2_CANCEL]: { code: Status.CANCELLED, details: 'Call cancelled' },
  [http2.constants.NGHTTP2_ENHANCE_YOUR_CALM]: { code: Status.RESOURCE_EXHAUSTED, details: 'Bandwidth exhausted or memory limit exceeded' },
  [http2.constants.NGHTTP2_INADEQUATE_SECURITY]: { code: Status.PERMISSION_DENIED, details: 'Protocol not secure enough' },
};

/** An HTTP status other than 200 without a gRPC status (a proxy's answer), as grpc-js maps it. */
function httpStatusToGrpc(httpStatus: number): Status {
  switch (httpStatus) {
    case 400: return Status.INTERNAL;
    case 401: return Status.UNAUTHENTICATED;
    case 403: return Status.PERMISSION_DENIED;
    case 404: return Status.UNIMPLEMENTED;
    case 429: case 502: case 503: case 504: return Status.UNAVAILABLE;
    default: return Status.UNKNOWN;
  }
}

function percentDecode(text: string): string {
  try { return decodeURIComponent(text); } catch { return text; }
}

function headerValue(value: string | string[] | number | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value === undefined ? undefined : String(value);
}

/** The status a trailers (or trailers-only headers) block carries, if it carries one. */
function statusFromMetadata(headers: http2.IncomingHttpHeaders): StatusObject | undefined {
  const raw = headerValue(headers['grpc-status']);
  if (raw === undefined) return undefined;
  const code = Number(raw);
  const details = percentDecode(headerValue(headers['grpc-message']) ?? '');
  if (!Number.isInteger(code) || code < 0 || code > 16) return { code: Status.UNKNOWN, details: `Invalid grpc-status ${raw}: ${details}` };
  return { code, details };
}

/** grpc-timeout: at most 8 digits, in the finest unit that fits. */
function grpcTimeout(ms: number): string {
  if (ms < 1e8) return `${ms}m`;
  if (ms / 1000 < 1e8) return `${Math.ceil(ms / 1000)}S`;
  return `${Math.ceil(ms / 3_600_000)}H`;
}

function frame(message: Buffer): Buffer {
  const framed = Buffer.allocUnsafe(PREFIX_BYTES + message.length);
  framed[0] = 0;
  framed.writeUInt32BE(message.length, 1);
  message.copy(framed, PREFIX_BYTES);
  return framed;
}

/**
 * Splits received DATA into messages. A message within one chunk is handed over as a view of it;
 * one spread over several is copied once into a buffer of its declared size.
 */
class MessageReader {
  private readonly prefix = Buffer.alloc(PREFIX_BYTES);
  private prefixFill = 0;
  private body?: Buffer;
  private bodyFill = 0;

  constructor(private readonly maxBytes: number) {}

  /** Calls `onMessage` for each whole message; returns why the stream cannot go on, if it cannot. */
  push(chunk: Buffer, onMessage: (message: Buffer) => void): StatusObject | undefined {
    let at = 0;
    while (at < chunk.length) {
      if (!this.body) {
        const take = Math.min(PREFIX_BYTES - this.prefixFill, chunk.length - at);
        chunk.copy(this.prefix, this.prefixFill, at, at + take);
        this.prefixFill += take;
        at += take;
        if (this.prefixFill < PREFIX_BYTES) return undefined;
        this.prefixFill = 0;
        const length = this.prefix.readUInt32BE(1);
        // We offer no compression (grpc-accept-encoding: identity), so a compressed message is one we cannot read.
        if (this.prefix[0] !== 0) return { code: Status.INTERNAL, details: 'Received a compressed message, but no compression was offered' };
        if (length > this.maxBytes) return { code: Status.RESOURCE_EXHAUSTED, details: `Received message larger than max (${length} vs. ${this.maxBytes})` };
        if (chunk.length - at >= length) {
          onMessage(chunk.subarray(at, at + length));
          at += length;
          continue;
        }
        this.body = Buffer.allocUnsafe(length);
        this.bodyFill = 0;
      }
      const take = Math.min(this.body.length - this.bodyFill, chunk.length - at);
      chunk.copy(this.body, this.bodyFill, at, at + take);
      this.bodyFill += take;
      at += take;
      if (this.bodyFill === this.body.length) {
        const message = this.body;
        this.body = undefined;
        onMessage(message);
      }
    }
    return undefined;
  }
}

/** What a call tells its user (the stream objects and the unary callback below). */
interface CallListener {
  onMessage(message: Buffer): void;
  /** Exactly once, after every message. */
  onStatus(status: StatusObject): void;
}

/**
 * One call on the channel's session: headers, framed messages out, messages in, and the status from
 * the trailers, from a trailers-only answer, or from how the stream or the session ended.
 */
class Call {
  private stream?: http2.ClientHttp2Stream;
  private readonly reader: MessageReader;
  private status?: StatusObject;
  private ended = false;
  private deadlineTimer?: NodeJS.Timeout;
  private streamError?: Error;
  private paused = false;

  constructor(private readonly channel: GrpcChannel, path: string, options: CallOptions, private readonly listener: CallListener) {
    this.reader = new MessageReader(channel.options.maxReceiveBytes);
    const deadline = options.deadline === undefined ? Infinity : Number(options.deadline);
    const headers: http2.OutgoingHttpHeaders = {
      ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers',
      'user-agent': channel.options.userAgent, 'grpc-accept-encoding': 'identity',
    };
    if (Number.isFinite(deadline)) {
      const left = Math.ceil(deadline - Date.now());
      if (left <= 0) {
        process.nextTick(() => this.finish({ code: Status.DEADLINE_EXCEEDED, details: 'Deadline exceeded before the call started' }));
        return;
      }
      headers['grpc-timeout'] = grpcTimeout(left);
      this.deadlineTimer = setTimeout(() => this.abort({ code: Status.DEADLINE_EXCEEDED, details: `Deadline exceeded after ${(left / 1000).toFixed(3)} s` }), left);
    }
    let stream: http2.ClientHttp2Stream;
    try {
      stream = channel.request(headers);
    } catch (err) {
      process.nextTick(() => this.finish({ code: Status.UNAVAILABLE, details: (err as Error).message }));
      return;
    }
    this.stream = stream;
    channel.callStarted();
    let httpStatus = 0;
    let grpcResponse = true;
    stream.on('response', (headers) => {
      httpStatus = Number(headers[':status']);
      const trailersOnly = statusFromMetadata(headers);
      if (trailersOnly) { this.status ??= trailersOnly; return; }
      if (httpStatus !== 200) {
        // Not gRPC (a proxy's error page): its body is no message.
        grpcResponse = false;
        this.status ??= { code: httpStatusToGrpc(httpStatus), details: `Received HTTP status code ${httpStatus}` };
        return;
      }
      const contentType = headerValue(headers['content-type']) ?? '';
      if (!contentType.startsWith('application/grpc')) {
        grpcResponse = false;
        this.abort({ code: Status.UNKNOWN, details: `Received a response with content-type "${contentType}", not gRPC` });
      }
    });
    stream.on('trailers', (trailers) => {
      this.status ??= statusFromMetadata(trailers) ?? { code: Status.UNKNOWN, details: 'No status received' };
    });
    stream.on('data', (chunk: Buffer) => {
      if (this.ended || !grpcResponse) return;
      const failed = this.reader.push(chunk, (message) => { if (!this.ended) listener.onMessage(message); });
      if (failed) this.abort(failed);
    });
    stream.on('error', (err) => { this.streamError ??= err; });
    // The read side is over once the trailers came (or the headers said all): nothing more will arrive.
    stream.on('end', () => {
      if (this.status) this.finish(this.status);
    });
    // stream.session is gone once the stream is destroyed; what ended it may be the session's failure.
    const session = stream.session;
    stream.on('close', () => this.finish(this.status ?? this.statusFromClose(stream, session, httpStatus)));
  }

  /** How a stream that closed without a gRPC status ended, worded as grpc-js words it. */
  private statusFromClose(stream: http2.ClientHttp2Stream, session: http2.Http2Session | undefined, httpStatus: number): StatusObject {
    const sessionFailure = session ? this.channel.failureOf(session) : undefined;
    if (sessionFailure) return { code: Status.UNAVAILABLE, details: sessionFailure };
    // Not the server resetting this one stream: the connection under it failed.
    if (this.streamError && (this.streamError as NodeJS.ErrnoException).code !== 'ERR_HTTP2_STREAM_ERROR') {
      return { code: Status.UNAVAILABLE, details: this.channel.describeFailure(this.streamError, session) };
    }
    if (!session || session.destroyed || session.closed) return { code: Status.UNAVAILABLE, details: `Connection to ${this.channel.address} closed` };
    if (httpStatus !== 0 && httpStatus !== 200) return { code: httpStatusToGrpc(httpStatus), details: `Received HTTP status code ${httpStatus}` };
    const code = stream.rstCode ?? http2.constants.NGHTTP2_NO_ERROR;
    return RST_STATUS[code] ?? { code: Status.INTERNAL, details: `Received RST_STREAM with code ${code}${code === 0 ? ' (Call ended without gRPC status)' : ''}` };
  }

  write(message: Buffer, done: () => void): void {
    const stream = this.stream;
    if (this.ended || !stream || stream.destroyed || stream.writableEnded) { done(); return; }
    stream.write(frame(message), () => done());
  }

  halfClose(): void {
    const stream = this.stream;
    if (!this.ended && stream && !stream.destroyed && !stream.writableEnded) stream.end();
  }

  pause(): void {
    if (!this.paused) { this.paused = true; this.stream?.pause(); }
  }

  resume(): void {
    if (this.paused) { this.paused = false; this.stream?.resume(); }
  }

  /** Ends the call now with `status`, and tells the server (RST_STREAM CANCEL). */
  abort(status: StatusObject): void {
    if (this.ended) return;
    // Before finish(), which would close the stream with NO_ERROR.
    const stream = this.stream;
    if (stream && !stream.destroyed && !stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    this.finish(status);
  }

  private finish(status: StatusObject): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.deadlineTimer);
    const stream = this.stream;
    if (stream) {
      this.channel.callEnded();
      // The server finished before our side did (a bidi stream we never half-closed): close ours too.
      if (!stream.closed && !stream.destroyed && !stream.writableEnded) stream.close(http2.constants.NGHTTP2_NO_ERROR);
    }
    this.listener.onStatus(status);
  }
}

/**
 * Emits a call's status once the messages before it were read: 'error' (when not OK), then
 * 'status', then the stream ends, in grpc-js's order (a reader never sees the end before the error).
 * With messages still buffered (a paused reader), it waits until the reader reaches the end.
 */
function emitStatusAfterMessages(stream: Readable, status: StatusObject): void {
  const emit = () => {
    if (status.code !== Status.OK) stream.emit('error', new ServiceError(status.code, status.details));
    stream.emit('status', status);
  };
  if (stream.readableLength > 0) {
    stream.prependOnceListener('end', emit);
    stream.push(null);
    return;
  }
  process.nextTick(() => { emit(); stream.push(null); });
}

/** A call whose replies are decoded into `stream`; the server is held back while its reader is behind. */
function readingCall<Res>(stream: Readable, channel: GrpcChannel, method: MethodCodec<never, Res>, options: CallOptions): Call {
  const call: Call = new Call(channel, method.path, options, {
    onMessage: (bytes) => {
      let message: Res;
      try {
        message = method.deserialize(bytes);
      } catch (err) {
        call.abort({ code: Status.INTERNAL, details: `Failed to parse server response: ${(err as Error).message}` });
        return;
      }
      if (!stream.push(message)) call.pause();
    },
    onStatus: (status) => emitStatusAfterMessages(stream, status),
  });
  return call;
}

/** A bidirectional call: writes are messages, reads are the replies; 'status' once, at the end. */
export class ClientDuplexStream<Req, Res> extends Duplex {
  private readonly call: Call;

  constructor(channel: GrpcChannel, private readonly method: MethodCodec<Req, Res>, options: CallOptions) {
    super({ objectMode: true });
    this.call = readingCall(this, channel, method, options);
  }

  override _read(): void {
    this.call.resume();
  }

  override _write(message: Req, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    let bytes: Buffer;
    try {
      bytes = this.method.serialize(message);
    } catch (err) {
      this.call.abort({ code: Status.INTERNAL, details: `Failed to serialize the message: ${(err as Error).message}` });
      done();
      return;
    }
    this.call.write(bytes, done);
  }

  /** end(): half-closes the call; the server may still answer. */
  override _final(done: (error?: Error | null) => void): void {
    this.call.halfClose();
    done();
  }

  /** Ends the call with CANCELLED (RST_STREAM CANCEL: the server's handler sees it cancelled). */
  cancel(): void {
    this.call.abort({ code: Status.CANCELLED, details: 'Cancelled on client' });
  }
}

/** A server-streaming call: one request, then the replies. */
export class ClientReadableStream<Res> extends Readable {
  private readonly call: Call;

  constructor(channel: GrpcChannel, method: MethodCodec<never, Res>, request: Buffer, options: CallOptions) {
    super({ objectMode: true });
    this.call = readingCall(this, channel, method, options);
    this.call.write(request, () => undefined);
    this.call.halfClose();
  }

  override _read(): void {
    this.call.resume();
  }

  cancel(): void {
    this.call.abort({ code: Status.CANCELLED, details: 'Cancelled on client' });
  }
}

export type UnaryCallback<Res> = (err: ServiceError | null, response?: Res) => void;

/** A unary call in flight. */
export interface UnaryCall {
  cancel(): void;
}

interface ReadyWaiter {
  done: (err?: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * One manager address, one HTTP/2 session at a time: opened by the first call (or waitForReady),
 * replaced by the next call once it has died. Keepalive PINGs run while a session is open.
 */
export class GrpcChannel {
  private session?: http2.ClientHttp2Session;
  /** Why a session died (its calls end UNAVAILABLE with this). */
  private readonly failures = new WeakMap<http2.Http2Session, string>();
  /** Sessions that got as far as 'connect' (TLS done): a later error is a lost connection. */
  private readonly connected = new WeakSet<http2.Http2Session>();
  private activeCalls = 0;
  private closed = false;
  private readonly url: string;
  private readonly servername: string | undefined;
  private readonly waiters = new Set<ReadyWaiter>();
  private readonly reconnect: Backoff;
  private reconnectTimer?: NodeJS.Timeout;
  private keepaliveTimer?: NodeJS.Timeout;

  constructor(readonly address: string, private readonly tls: ChannelTls, readonly options: ChannelOptions) {
    const { hostname } = new URL(`https://${address}`);
    const host = hostname.replace(/^\[(.*)\]$/, '$1');
    this.url = `https://${address}`;
    this.servername = tls.servername ?? (isIP(host) ? undefined : host);
    this.reconnect = new Backoff(options.reconnectMinMs, options.reconnectMaxMs);
  }

  unary<Req, Res>(method: MethodCodec<Req, Res>, request: Req, options: CallOptions, callback: UnaryCallback<Res>): UnaryCall {
    let response: Res | undefined;
    let received = 0;
    let failed: StatusObject | undefined;
    let bytes: Buffer;
    try {
      bytes = method.serialize(request);
    } catch (err) {
      const error = new ServiceError(Status.INTERNAL, `Failed to serialize the request: ${(err as Error).message}`);
      process.nextTick(callback, error);
      return { cancel: () => undefined };
    }
    const call: Call = new Call(this, method.path, options, {
      onMessage: (message) => {
        if (++received > 1) { failed = { code: Status.UNIMPLEMENTED, details: 'Too many responses received' }; call.abort(failed); return; }
        try {
          response = method.deserialize(message);
        } catch (err) {
          failed = { code: Status.INTERNAL, details: `Failed to parse server response: ${(err as Error).message}` };
          call.abort(failed);
        }
      },
      onStatus: (status) => {
        const final = failed ?? status;
        if (final.code !== Status.OK) callback(new ServiceError(final.code, final.details));
        else if (received === 0) callback(new ServiceError(Status.UNIMPLEMENTED, 'No message received'));
        else callback(null, response);
      },
    });
    call.write(bytes, () => undefined);
    call.halfClose();
    return { cancel: () => call.abort({ code: Status.CANCELLED, details: 'Cancelled on client' }) };
  }

  serverStream<Req, Res>(method: MethodCodec<Req, Res>, request: Req, options: CallOptions = {}): ClientReadableStream<Res> {
    return new ClientReadableStream(this, method, method.serialize(request), options);
  }

  bidiStream<Req, Res>(method: MethodCodec<Req, Res>, options: CallOptions = {}): ClientDuplexStream<Req, Res> {
    return new ClientDuplexStream(this, method, options);
  }

  /**
   * Calls back once a session is connected (TLS done), or with an error at the deadline (or at
   * once when the channel is closed). A failed connection is tried again with backoff meanwhile.
   */
  waitForReady(deadline: number | Date, callback: (err?: Error) => void): void {
    if (this.closed) { process.nextTick(callback, new Error('Channel has been shut down')); return; }
    const session = this.ensureSession();
    if (!session.connecting && !session.destroyed) { process.nextTick(callback); return; }
    const waiter: ReadyWaiter = {
      done: callback,
      timer: setTimeout(() => {
        this.waiters.delete(waiter);
        const last = this.session ? this.failures.get(this.session) : undefined;
        callback(new Error(`Failed to connect before the deadline${last ? `: ${last}` : ''}`));
      }, Math.max(0, Number(deadline) - Date.now())),
    };
    this.waiters.add(waiter);
  }

  /** Ends the session and every call on it; later calls fail UNAVAILABLE. */
  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    for (const w of this.waiters) { clearTimeout(w.timer); process.nextTick(w.done, new Error('Channel has been shut down')); }
    this.waiters.clear();
    const session = this.session;
    if (session && !session.destroyed) {
      this.failures.set(session, 'Channel has been shut down');
      session.destroy();
    }
  }

  // ---- for Call

  request(headers: http2.OutgoingHttpHeaders): http2.ClientHttp2Stream {
    if (this.closed) throw new Error('Channel has been shut down');
    return this.ensureSession().request(headers);
  }

  callStarted(): void {
    if (this.activeCalls++ === 0) this.session?.ref();
  }

  /** Like grpc-js, an idle session does not keep the process alive. */
  callEnded(): void {
    if (--this.activeCalls === 0) this.session?.unref();
  }

  /** Why `session` died, once known. */
  failureOf(session: http2.Http2Session): string | undefined {
    return this.failures.get(session);
  }

  /** A connection or TLS failure in words an operator can act on. */
  describeFailure(failure: Error, session?: http2.Http2Session): string {
    // A stream opened while the session connected ends "cancelled", caused by the session's error.
    const err = failure.cause instanceof Error ? failure.cause : failure;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO|HOSTNAME|IP_MISMATCH/.test(code)) return `TLS handshake with ${this.address} failed: ${err.message} (${code})`;
    if (session && this.connected.has(session)) return `Connection to ${this.address} lost: ${err.message}`;
    return `Failed to connect to ${this.address}: ${err.message}`;
  }

  // ---- the session

  private ensureSession(): http2.ClientHttp2Session {
    const current = this.session;
    if (current && !current.destroyed && !current.closed && !this.failures.has(current)) return current;
    clearTimeout(this.reconnectTimer);
    const session = http2.connect(this.url, {
      secureContext: this.tls.secureContext, servername: this.servername,
      settings: { enablePush: false, initialWindowSize: this.options.windowBytes },
    });
    this.session = session;
    if (this.activeCalls === 0) session.unref();
    session.once('connect', () => {
      this.connected.add(session);
      session.setLocalWindowSize(this.options.windowBytes);
      this.reconnect.reset();
      this.startKeepalive(session);
      for (const w of this.waiters) { clearTimeout(w.timer); process.nextTick(w.done); }
      this.waiters.clear();
    });
    session.on('error', (err) => {
      if (!this.failures.has(session)) this.failures.set(session, this.describeFailure(err, session));
    });
    // The server stops taking new streams on this session; the ones open finish on their own.
    session.on('goaway', (errorCode) => {
      if (!this.failures.has(session)) this.failures.set(session, `Connection to ${this.address} ended by the server (GOAWAY ${errorCode})`);
    });
    session.once('close', () => {
      if (!this.failures.has(session)) this.failures.set(session, `Connection to ${this.address} closed`);
      if (this.session === session) this.stopKeepalive();
      // Someone waits for a connection that failed: try again after a pause, until their deadline.
      if (this.session === session && this.waiters.size > 0 && !this.closed) {
        this.reconnectTimer = setTimeout(() => { if (this.waiters.size > 0 && !this.closed) this.ensureSession(); }, this.reconnect.next());
      }
    });
    return session;
  }

  private startKeepalive(session: http2.ClientHttp2Session): void {
    this.stopKeepalive();
    const { keepaliveMs, keepaliveTimeoutMs } = this.options;
    this.keepaliveTimer = setInterval(() => {
      if (session.destroyed) return;
      const timeout = setTimeout(() => {
        this.failures.set(session, `Connection to ${this.address} dropped: keepalive ping not answered within ${keepaliveTimeoutMs / 1000} s`);
        session.destroy();
      }, keepaliveTimeoutMs);
      timeout.unref();
      const sent = session.ping((err) => { clearTimeout(timeout); if (err && !session.destroyed) session.destroy(err); });
      if (!sent) clearTimeout(timeout);
    }, keepaliveMs);
    this.keepaliveTimer.unref();
  }

  private stopKeepalive(): void {
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
  }
}
