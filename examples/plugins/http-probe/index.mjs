// http-probe: an executor plugin for agentd (see README.md). Requests `url` from the host agentd
// runs on and succeeds when the response's status code is `expect`. Reports the status code and
// the latency (milliseconds until the response headers arrived) in the run's result and as one
// line of output. Node built-ins only, so the folder is the whole plugin.
import http from 'node:http';
import https from 'node:https';

/** Node's error codes in words, for the one-line message. */
const REASONS = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

export async function run(params, ctx) {
  const { method, expect } = params;
  let url;
  try {
    url = new URL(params.url);
  } catch {
    return { exitCode: 2, status: 'error', error: `url ${JSON.stringify(params.url)} is not a URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { exitCode: 2, status: 'error', error: `url must start with http:// or https://, got ${url.protocol}` };
  }
  if (params.timeoutMs !== undefined && params.timeoutMs < 1) {
    return { exitCode: 2, status: 'error', error: `timeoutMs must be at least 1, got ${params.timeoutMs}` };
  }
  const timeoutMs = params.timeoutMs ?? ctx.timeoutMs;
  const what = `${method} ${url.href}`;
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);

  try {
    const status = await request(url, method, timeoutMs, ctx.signal);
    const latencyMs = latency();
    const result = { url: url.href, method, status, expect, latencyMs };
    ctx.output('stdout', `${what} → ${status} in ${latencyMs} ms\n`);
    if (status === expect) return { exitCode: 0, result };
    return { exitCode: 1, error: `${what} answered ${status}, expected ${expect}`, result };
  } catch (err) {
    const reason = REASONS[err.code] ?? err.message;
    const error = `${what}: ${reason}${err.code && REASONS[err.code] ? ` (${err.code})` : ''}`;
    ctx.output('stderr', `${error}\n`);
    return { exitCode: 1, error, result: { url: url.href, method, status: null, expect, latencyMs: latency() } };
  }
}

/** The status code of `method url`; the body is read and dropped. Rejects on timeout or abort. */
function request(url, method, timeoutMs, signal) {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(url, { method, signal }, (res) => {
      res.resume();
      res.on('end', () => { clearTimeout(timer); resolve(res.statusCode); });
      res.on('error', reject);
    });
    // The whole exchange, not just one idle stretch of the socket, must fit in timeoutMs.
    const timer = setTimeout(() => req.destroy(new Error(`no response within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err.name === 'AbortError' ? new Error(`stopped (${signal.reason})`) : err);
    });
    req.end();
  });
}
