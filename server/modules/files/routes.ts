import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import { FileHashParams, StoredFileSchema, type StoredFileDto } from '../../../proto/rest/files.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import type { FileStore } from './file-store.js';

export function fileRoutes(app: FastifyInstance, store: FileStore, maxUploadBytes: number): void {
  // Scoped, so only these routes take raw bytes; the body is streamed to disk, never buffered.
  void app.register(async (scope) => {
    scope.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));

    scope.get<{ Params: { sha256: string } }>('/files/:sha256', {
      config: { permission: 'files:write' },
      schema: {
        tags: ['files'], params: FileHashParams, response: { 200: envelopeOf(StoredFileSchema) },
        summary: 'Whether the manager has a file already (404 if not), so an upload can skip sending it again',
      },
    }, async (req) => {
      const size = store.size(req.params.sha256);
      if (size === undefined) throw new OpsError(ErrorCode.NOT_FOUND, `no file ${req.params.sha256} on the manager`);
      // An upload is about to use it: keep it another files.keepDays.
      store.touch(req.params.sha256);
      return ok<StoredFileDto>({ sha256: req.params.sha256, size, created: false });
    });

    scope.put<{ Params: { sha256: string } }>('/files/:sha256', {
      config: { permission: 'files:write', audit: 'files.store', auditAfter: true },
      bodyLimit: maxUploadBytes,
      schema: {
        tags: ['files'], params: FileHashParams, response: { 200: envelopeOf(StoredFileSchema), 201: envelopeOf(StoredFileSchema) },
        summary: 'Store a file by its SHA-256 (raw bytes, application/octet-stream), for upload tasks',
        description: 'Refused with 1001 when the bytes do not hash to the sha256 in the path or exceed files.maxUploadBytes; nothing is kept then. Content stored already answers 200 at once.',
      },
    }, async (req, reply) => {
      const body = req.body as Readable | undefined;
      if (!body || typeof body.pipe !== 'function') throw new OpsError(ErrorCode.INVALID_ARGUMENT, 'send the file as application/octet-stream');
      const known = store.size(req.params.sha256);
      if (known !== undefined) {
        store.touch(req.params.sha256);
        body.resume();
        return ok<StoredFileDto>({ sha256: req.params.sha256, size: known, created: false });
      }
      const stored = await store.put(body, maxUploadBytes, req.params.sha256);
      reply.code(201);
      return ok<StoredFileDto>({ ...stored, created: true });
    });
  });
}
