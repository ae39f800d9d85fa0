// POST /v1/exec streams a run as NDJSON, one AgentExecEvent a line, as the events happen.
// GET /v1/exec/<runId>/events?after=N streams the same run again from the event after seq N: the
// events agentd kept, then the live ones, ending after `exit`.
//
// A run hostd started outlives its stream: hostd re-attaches with GET …/events when the stream
// broke (it restarted, or lost its connection), so nothing the run printed is lost. A run started
// with another key (opsctl direct mode) is cancelled when its client disconnects: nobody comes
// back for it, and output nobody can read any more is work nobody wants.
import { PassThrough } from 'node:stream';
import { AGENT_API, lostRunMessage, type AgentExecEvent, type AgentExecRequest } from '../../proto/agent-api.js';
import { HOSTD_KEY_ID } from '../../proto/agent-keys-file.js';
import { ErrorCode, OpsError } from '../../proto/errors.js';
import type { Logger } from '../../lib/log.js';
import type { AgentExecutor } from '../exec/executor.js';
import type { EventSink } from '../exec/run-journal.js';
import type { AgentRequest, Route, RouteReply } from './route.js';
import { EventsQuerySchema, execRequestSchema, RunIdParamsSchema } from './schemas.js';
import type { StreamTracker } from './stream-tracker.js';

/** Writes events to `stream` as NDJSON, ending it after the exit. */
function ndjsonSink(stream: PassThrough): EventSink {
  return (event: AgentExecEvent): void | Promise<void> => {
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
}

function ndjsonReply(request: AgentRequest, stream: PassThrough, streams: StreamTracker): RouteReply {
  streams.track(request.res);
  return { ndjson: stream };
}

export function execRoutes(executor: AgentExecutor, streams: StreamTracker, log: Logger): Route[] {
  const exec: Route = {
    method: 'POST', path: AGENT_API.exec, schema: { body: execRequestSchema(executor.executors) },
    handler: async (request) => {
      const req = request.body as AgentExecRequest;
      const stream = new PassThrough();
      const sink = ndjsonSink(stream);
      // Throws 409 (a run id agentd has or had: read its events instead), 503 (shutting down) or the
      // kind's own refusal (a path outside the roots: 403 / 1003) before any byte of the stream is sent.
      void executor.submit(req, sink);
      log.debug({ runId: req.runId, kind: req.kind, keyId: request.signedBy }, 'exec accepted');
      const reattaches = request.signedBy === HOSTD_KEY_ID;
      request.res.on('close', () => {
        if (request.res.writableFinished) return;
        if (reattaches) {
          executor.detach(req.runId, sink);
          log.info({ runId: req.runId }, 'hostd disconnected mid-stream; the run goes on');
        } else if (executor.cancel(req.runId) === 'cancelled') {
          log.info({ runId: req.runId }, 'client disconnected mid-stream; run cancelled');
        }
      });
      return ndjsonReply(request, stream, streams);
    },
  };

  const events: Route = {
    method: 'GET', path: '/v1/exec/:runId/events', schema: { params: RunIdParamsSchema, querystring: EventsQuerySchema },
    handler: async (request) => {
      const { runId } = request.params;
      const after = Number(request.query.after ?? 0);
      const stream = new PassThrough();
      const sink = ndjsonSink(stream);
      const found = executor.attach(runId, after, sink);
      if (found === 'unknown') {
        const lost = executor.lostRuns.find((r) => r.runId === runId);
        // A run a killed predecessor left behind: say what became of it, as the ledger found it.
        if (lost) throw new OpsError(ErrorCode.NOT_FOUND, lostRunMessage(lost.killed), { lost: true, killed: lost.killed });
        throw new OpsError(ErrorCode.NOT_FOUND, `agentd does not know run ${runId} (it never ran here, or ended too long ago)`);
      }
      if (found === 'ended' && !stream.writableEnded) stream.end();
      log.debug({ runId, after, keyId: request.signedBy }, 're-attached to a run');
      request.res.on('close', () => executor.detach(runId, sink));
      return ndjsonReply(request, stream, streams);
    },
  };
  return [exec, events];
}
