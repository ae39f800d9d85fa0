// PUT /v1/exec/<runId>/content: an upload's bytes, streamed to the run that waits for them. The
// request is signed with the content's sha256 as its body hash; that hash must be the one the run
// was dispatched with, and the file kind checks the bytes against it before the file is put in
// place. Answers 204 once the run has read everything (the run's own stream says how it ended).
import type { Readable } from 'node:stream';
import { ErrorCode, OpsError } from '../../proto/errors.js';
import type { RunQueue } from '../exec/run-queue.js';
import type { Route } from './route.js';
import { RunIdParamsSchema } from './schemas.js';

export function contentRoute(executor: RunQueue): Route {
  return {
    method: 'PUT', path: '/v1/exec/:runId/content', schema: { params: RunIdParamsSchema },
    handler: async (request) => {
      const { runId } = request.params;
      const body = request.body as Readable | undefined;
      if (!body || !request.signedBodyHash) {
        throw new OpsError(ErrorCode.INVALID_ARGUMENT, 'send the content as application/octet-stream');
      }
      const expected = executor.expectedContentHash(runId);
      if (expected === undefined) throw new OpsError(ErrorCode.NOT_FOUND, `no run ${runId} waiting for content`);
      if (expected !== request.signedBodyHash) {
        throw new OpsError(ErrorCode.INVALID_ARGUMENT, `content sha256 ${request.signedBodyHash} is not the ${expected} run ${runId} was dispatched with`);
      }
      try {
        await executor.giveContent(runId, body);
      } catch (err) {
        if (err instanceof OpsError) throw err;
        throw new OpsError(ErrorCode.CONFLICT, `run ${runId} did not take the content: ${(err as Error).message}`);
      }
      return { data: { received: true } };
    },
  };
}
