// The web UI: its files, and index.html for its pages' paths (proto/web-pages.ts: /nodes/web1
// reloaded or shared). Routes for those paths only, so /api/ is never shadowed (an unknown API
// path stays a JSON 404) and the manager's other paths answer as they did.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WEB_PAGES } from '../../../proto/web-pages.js';
import { HASHED_DIR, type WebFile, type WebUiFiles } from './files.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html names the current hashed assets: always asked again (a 304 when unchanged). */
const REVALIDATE = 'no-cache';
/**
 * The app loads only its own scripts and talks only to this manager. MUI (emotion) writes its
 * styles into <style> elements at run time, hence 'unsafe-inline' for styles alone.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:",
  "font-src 'self' data:", "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'",
].join('; ');

export const NOT_BUILT_HINT = 'The web UI is not built: run `npm run build` (it writes dist/web), then restart the manager.\n' +
  'The REST API is at /api/v1 (OpenAPI document: /api/v1/openapi.json).\n';

export function webUiRoutes(app: FastifyInstance, files: WebUiFiles): void {
  const declaration = { config: { public: true }, schema: { hide: true } };
  const page = async (_req: FastifyRequest, reply: FastifyReply) => {
    if (!files.built) return reply.code(404).type('text/plain; charset=utf-8').send(NOT_BUILT_HINT);
    return send(_req, reply, files, files.get('/index.html')!, REVALIDATE);
  };
  for (const path of WEB_PAGES) {
    app.get(path, declaration, page);
    if (path !== '/') app.get(`${path}/*`, declaration, page);
  }
  // The build's own files: the hashed ones under assets/, and the few at its top (favicon).
  app.get(`${HASHED_DIR}*`, declaration, async (req, reply) => {
    const file = files.get(req.url.split('?')[0]!);
    // A missing hashed asset is an old page asking for what a new build replaced: index.html in
    // its place would be parsed as a script.
    if (!file) return reply.code(404).type('text/plain; charset=utf-8').send(files.built ? 'not found\n' : NOT_BUILT_HINT);
    return send(req, reply, files, file, IMMUTABLE);
  });
  for (const path of files.topLevelPaths()) {
    if (path !== '/index.html') app.get(path, declaration, async (req, reply) => send(req, reply, files, files.get(path)!, REVALIDATE));
  }
}

function send(req: FastifyRequest, reply: FastifyReply, files: WebUiFiles, file: WebFile, cacheControl: string) {
  reply.header('cache-control', cacheControl).header('etag', file.etag).header('x-content-type-options', 'nosniff').header('vary', 'accept-encoding');
  if (file.contentType.startsWith('text/html')) {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY).header('referrer-policy', 'no-referrer');
  }
  if (req.headers['if-none-match'] === file.etag) return reply.code(304).send();
  reply.type(file.contentType);
  const gz = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) ? files.gzipOf(file) : null;
  if (gz) return reply.header('content-encoding', 'gzip').send(gz);
  return reply.send(file.body);
}
