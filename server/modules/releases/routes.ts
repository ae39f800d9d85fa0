import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import { RELEASE_HEADERS, ReleaseDetail, ReleaseView, VersionParams } from '../../../proto/rest/releases.js';
import { principalOf } from '../../http/access.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import type { ReleasesService } from './service.js';

type VersionRoute = { Params: { version: string } };

/** A header's text, or a 1001 naming it. */
function header(headers: Record<string, unknown>, name: string, base64: boolean): string {
  const value = headers[name];
  if (typeof value !== 'string' || value === '') throw new OpsError(ErrorCode.INVALID_ARGUMENT, `header ${name} is required (opsctl release create sends it)`);
  return base64 ? Buffer.from(value, 'base64').toString('utf8') : value;
}

export function releaseRoutes(app: FastifyInstance, releases: ReleasesService, maxBundleBytes: number): void {
  app.get('/releases', {
    config: { permission: 'releases:read' },
    schema: { tags: ['releases'], summary: 'Stored releases, one row per version and platform, newest version first', response: { 200: envelopeOf(Type.Array(ReleaseView)) } },
  }, async () => ok(await releases.list()));

  app.get<VersionRoute>('/releases/:version', {
    config: { permission: 'releases:read' },
    schema: { tags: ['releases'], summary: 'One version: its builds with the signed manifest and signature', params: VersionParams, response: { 200: envelopeOf(ReleaseDetail) } },
  }, async (req) => ok(await releases.get(req.params.version)));

  // Scoped, so only this route takes raw bytes; the body is streamed to disk, never buffered.
  void app.register(async (scope) => {
    scope.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
    scope.post<VersionRoute>('/releases/:version', {
      // Audited after the fact, in a transaction of its own: an upload takes as long as it takes,
      // and must not hold the database's write lock meanwhile.
      config: { permission: 'releases:write', audit: 'releases.create', auditAfter: true },
      // The service enforces the limits with release codes (3006); Fastify's own would say 1001.
      bodyLimit: Number.MAX_SAFE_INTEGER,
      schema: {
        tags: ['releases'], params: VersionParams, response: { 201: envelopeOf(ReleaseView) },
        summary: 'Upload a signed release: the bundle as the raw body (application/octet-stream), the signed manifest in headers',
        description: `Headers: ${RELEASE_HEADERS.manifest} (base64 of the manifest text), ${RELEASE_HEADERS.signature} (base64 Ed25519 signature), ` +
          `${RELEASE_HEADERS.keyId}. Refused: 3001 bad signature, 3002 a key not in releases.trustedKeys, 3005 expired, 3006 larger than the manifest ` +
          'or releases.maxBundleMB, 3003 size or SHA-256 not as signed, 1001 a malformed manifest, 1005 a version stored already. Nothing is kept on a refusal.',
      },
    }, async (req, reply) => {
      const body = req.body as Readable | undefined;
      if (!body || typeof body.pipe !== 'function') throw new OpsError(ErrorCode.INVALID_ARGUMENT, 'send the bundle as application/octet-stream');
      const length = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
      try {
        const signed = { manifest: header(req.headers, RELEASE_HEADERS.manifest, true), signature: header(req.headers, RELEASE_HEADERS.signature, false), keyId: String(req.headers[RELEASE_HEADERS.keyId] ?? '') };
        const stored = await releases.upload(principalOf(req), req.params.version, signed, body, length);
        reply.code(201);
        return ok(stored);
      } finally {
        // A refusal before the body was read: let a body of an allowed size arrive (and be dropped)
        // so the client reads the answer instead of a reset connection. A larger one is not read.
        if (!body.readableEnded && !body.destroyed && length !== undefined && length <= maxBundleBytes) body.resume();
      }
    });
  });
}
