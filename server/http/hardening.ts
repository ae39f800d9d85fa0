// Input hardening for the REST API: JSON bodies are taken as typed (no coercion), valid UTF-8,
// without prototype keys or NUL characters; query strings and params carry no NUL either; and the
// errors Fastify and Node answer before any route runs leave as the standard envelope too.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { Ajv, type Options as AjvOptions } from 'ajv';
import addFormats from 'ajv-formats';
import sjson from 'secure-json-parse';
import { errorCodes, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { envelope, ErrorCode, OpsError } from '../../proto/errors.js';

/** DNS names (node names) are up to 253 characters; Fastify's default cap on a path parameter is 100. */
export const MAX_PARAM_LENGTH = 253;

// Fastify's own Ajv defaults minus what hides bad input: unknown fields are refused, not dropped;
// defaults belong to the services; one error only (allErrors lets a crafted body cost a lot).
const AJV_OPTIONS: AjvOptions = { removeAdditional: false, useDefaults: false, allErrors: false, addUsedSchema: false };

function makeAjv(coerceTypes: boolean): Ajv {
  const ajv = new Ajv({ ...AJV_OPTIONS, coerceTypes });
  addFormats.default(ajv);
  return ajv;
}

/** Bodies are JSON and already typed: `"5"` for an integer or `["admin"]` for a string is refused. */
export function installValidation(app: FastifyInstance): void {
  const body = makeAjv(false);
  // Query strings, params and headers are text: `?limit=5` has to become 5.
  const text = makeAjv(true);
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? body : text;
    // As Fastify's compiler does: a schema with an $id shared by two routes is compiled once.
    const id = (schema as { $id?: string }).$id;
    return (id && ajv.getSchema(id)) || ajv.compile(schema);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const PROTO_ERRORS = { protoAction: 'error', constructorAction: 'error' } as const;

/** JSON-pointer segment, as Ajv writes instancePath ("body/env/A~1B"). */
const pointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * The first NUL character in `value` (a string, or one in a key or value at any depth), as the
 * message naming where. Iterative: JSON.parse builds nestings far deeper than the call stack.
 */
export function findNul(part: string, value: unknown): string | undefined {
  const stack: [where: string, value: unknown][] = [[part, value]];
  while (stack.length) {
    const [where, current] = stack.pop()!;
    if (typeof current === 'string') {
      if (current.includes('\0')) return `${where} must not contain a NUL character`;
    } else if (current !== null && typeof current === 'object') {
      for (const [key, child] of Object.entries(current)) {
        if (key.includes('\0')) return `${where} must not contain a NUL character in a property name`;
        if (typeof child === 'string' || (child !== null && typeof child === 'object')) stack.push([`${where}/${pointer(key)}`, child]);
      }
    }
  }
  return undefined;
}

/**
 * The only body parser: JSON, strictly UTF-8, no `__proto__`/`constructor.prototype` keys, no NUL
 * in any string. Every other content type is answered 415 by Fastify; a route that needs another
 * (a form) adds its parser in its own plugin and runs findNul('body', parsed) there too.
 */
export function installJsonParser(app: FastifyInstance): void {
  // Fastify's default text/plain parser would hand a JSON route a string body: 400, not 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, raw: Buffer, done) => {
    // Same as Fastify's default parser: an empty body with a JSON content type is an error.
    if (raw.length === 0) return done(new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY(), undefined);
    let text: string;
    try {
      text = utf8.decode(raw);
    } catch {
      return done(new OpsError(ErrorCode.INVALID_ARGUMENT, 'body is not valid UTF-8'), undefined);
    }
    let body: unknown;
    try {
      body = sjson.parse(text, null, PROTO_ERRORS);
    } catch (err) {
      if (err instanceof SyntaxError && err.message.includes('forbidden prototype property')) {
        return done(new OpsError(ErrorCode.INVALID_ARGUMENT, 'body must not contain a "__proto__" or "constructor.prototype" key'), undefined);
      }
      return done(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), undefined);
    }
    // JSON can only carry a NUL escaped, so a body without "\u0000" needs no walk.
    const nul = text.includes('\\u0000') ? findNul('body', body) : undefined;
    if (nul) return done(new OpsError(ErrorCode.INVALID_ARGUMENT, nul), undefined);
    done(null, body);
  });
}

/** `%00` in a query value or a route param is refused before any handler (or database) sees it. */
export function installNulGuard(app: FastifyInstance): void {
  app.addHook('onRequest', async (req) => {
    const nul = findNul('querystring', req.query) ?? findNul('params', req.params);
    if (nul) throw new OpsError(ErrorCode.INVALID_ARGUMENT, nul);
  });
}

const FRAMEWORK_MESSAGES: Record<string, string> = {
  FST_ERR_BAD_URL: 'URL is not validly percent-encoded',
  FST_ERR_MAX_PARAM_LENGTH: 'a URL path segment is too long',
};

/**
 * Fastify's `frameworkErrors`: errors of the router, before any route or hook. Bad percent-encoding
 * is 400, an over-long path parameter 414 (Fastify's statuses), both code 1001; the path is not
 * echoed. Anything else from the framework is a server fault.
 */
export function frameworkErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    req.log.debug({ code: err.code, method: req.method, status }, 'request refused by the router');
    reply.status(status).send(envelope(null, ErrorCode.INVALID_ARGUMENT, FRAMEWORK_MESSAGES[err.code] ?? 'invalid request'));
    return;
  }
  req.log.error({ err, method: req.method }, 'request failed in the router');
  reply.status(500).send(envelope(null, ErrorCode.INTERNAL, 'internal error'));
}

interface ConnectionError extends Error { code?: string }

const answered = new WeakSet<Socket>();

const CLIENT_ERRORS: Record<string, [status: number, message: string]> = {
  // llhttp counts the request line too: a URL over Node's max header size (16 KB) lands here.
  HPE_HEADER_OVERFLOW: [431, 'request headers too large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'chunk extensions too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request timeout'],
};

/**
 * Fastify's `clientErrorHandler`: Node's HTTP parser refused the bytes, so there is no request
 * object; answer a raw HTTP/1.1 response carrying the envelope and close.
 */
export function clientErrorHandler(this: FastifyInstance, err: ConnectionError, socket: Socket): void {
  // A reset or destroyed socket has nobody left to answer; an answered one repeats its parser
  // error for every further chunk the client sends until it closes.
  if (err.code === 'ECONNRESET' || socket.destroyed || answered.has(socket)) return;
  const [status, message] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'bad request'];
  // Only the code: err.rawPacket holds the raw request, Authorization header included.
  this.log.debug({ code: err.code, status }, 'client error');
  // As Node does: answering is only safe if no response on this socket has started.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  answered.add(socket);
  const body = JSON.stringify(envelope(null, ErrorCode.INVALID_ARGUMENT, message));
  socket.end([
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n'));
  // end(), not destroy(): the rest of what the client is still sending is read and dropped, so no
  // RST overtakes the answer; a client that never closes its side is cut off after a moment.
  setTimeout(() => socket.destroy(), 2000).unref();
}

/** Spread into `Fastify({...})`; call installValidation/installJsonParser/installNulGuard before routes. */
export const HARDENED_SERVER_OPTIONS = {
  frameworkErrors: frameworkErrorHandler,
  clientErrorHandler,
  routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
};
