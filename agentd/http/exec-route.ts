// POST /v1/exec streams a run as NDJSON, one AgentExecEvent a line, as the events happen.
// A client that disconnects mid-stream cancels the run: hostd owns every run and never
// reconnects to one, so output nobody can read any more is work nobody wants.
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { AGENT_API, type AgentExecEvent, type AgentExecRequest } from '../../proto/agent-api.js';
import type { Logger } from '../../lib/log.js';
import type { RunQueue } from '../exec/run-queue.js';
import { execRequestSchema } from './schemas.js';
import type { StreamTracker } from './stream-tracker.js';

export function registerExecRoute(app: FastifyInstance, executor: RunQueue, streams: StreamTracker, log: Logger): void {
  app.post(AGENT_API.exec, { schema: { body: execRequestSchema(executor.executors) } }, async (request, reply) => {
    const req = request.body as AgentExecRequest;
    const stream = new PassThrough();
    const sink = (event: AgentExecEvent): void | Promise<void> => {
      if (stream.destroyed || stream.writableEnded) return;
      const more = stream.write(JSON.stringify(event) + '\n');
      if (event.type === 'exit') stream.end();
      // A download waits here while the client is slower than the disk.
      else if (!more && event.type === 'data') {
        return new Promise<void>((resolve) => {
          const go = () => { stream.off('drain', go); stream.off('close', go); resolve(); };
          stream.on('drain', go);
          stream.on('close', go);
        });
      }
    };
    // Throws 409 (duplicate run id), 503 (shutting down) or the kind's own refusal (a path
    // outside the roots: 403 / 1003) before any byte of the stream is sent.
    void executor.submit(req, sink);
    log.debug({ runId: req.runId, kind: req.kind, keyId: request.signedBy }, 'exec accepted');
    streams.track(reply.raw);
    reply.raw.on('close', () => {
      if (reply.raw.writableFinished) return;
      if (executor.cancel(req.runId) === 'cancelled') log.info({ runId: req.runId }, 'client disconnected mid-stream; run cancelled');
    });
    return reply
      .status(200)
      .header('content-type', 'application/x-ndjson')
      .header('cache-control', 'no-cache')
      .send(stream);
  });
}
