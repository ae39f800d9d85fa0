// fetch() for an HTTPS manager whose CA is pinned: the same Request/Response shapes the API client
// uses with the global fetch, over node:https with `ca` set to the pinned CA alone (so no other CA,
// the system's included, can vouch for the manager). The global fetch takes no CA, and undici's
// package, which would, costs ~90 ms of start-up; node:https costs next to nothing once TLS is loaded.
import { Agent, request } from 'node:https';
import { Readable } from 'node:stream';

export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

export function pinnedFetch(caPem: string): Fetch {
  // One agent per client: a command reading pages reuses its connection (idle sockets do not hold the process).
  const agent = new Agent({ ca: caPem, keepAlive: true });
  return (url, init) => new Promise<Response>((resolve, reject) => {
    const body = typeof init.body === 'string' ? init.body : undefined;
    const headers: Record<string, string> = { ...(init.headers as Record<string, string> | undefined) };
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const req = request(url, { method: init.method ?? 'GET', headers, agent, signal: init.signal ?? undefined }, (res) => {
      const responseHeaders = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) responseHeaders.append(name, v);
      }
      const status = res.statusCode ?? 0;
      const stream = NULL_BODY_STATUS.has(status) || init.method === 'HEAD' ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
      if (!stream) res.resume();
      resolve(new Response(stream, { status, statusText: res.statusMessage, headers: responseHeaders }));
    });
    req.once('error', reject);
    req.end(body);
  });
}
