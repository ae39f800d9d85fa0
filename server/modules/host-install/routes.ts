// GET /install.sh and GET /bundles/<file> at the root, where the one-line install command points
// (outside /api/v1: plain text and files for curl and sh, not the API's JSON envelope). Public.
import { createReadStream } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { HostInstallService } from './service.js';

const TEXT = 'text/plain; charset=utf-8';

export function hostInstallRoutes(app: FastifyInstance, install: HostInstallService): void {
  app.get('/install.sh', { config: { public: true }, schema: { hide: true } }, async (req, reply) => {
    const script = await install.script(req.protocol, req.headers.host);
    return reply.type('text/x-shellscript; charset=utf-8').header('cache-control', 'no-store').send(script);
  });

  app.get<{ Params: { file: string } }>('/bundles/:file', { config: { public: true }, schema: { hide: true } }, async (req, reply) => {
    const bundle = await install.bundle(req.params.file);
    if (!bundle) {
      const have = (await install.shelf.list()).map((b) => b.file);
      return reply.code(404).type(TEXT).send(have.length > 0
        ? `no host bundle named ${JSON.stringify(req.params.file)}; this manager has: ${have.join(', ')}\n`
        : `this manager has no host bundle: run npm run package on it (bundles are read from ${install.shelf.dir}, install.bundleDir)\n`);
    }
    return reply.type('application/gzip').header('content-length', bundle.size).header('cache-control', 'no-store')
      .send(createReadStream(bundle.path));
  });
}
