import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { CreateRolloutRequest, RolloutDetail, RolloutIdParams, RolloutView } from '../../../proto/rest/releases.js';
import { principalOf } from '../../http/access.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import type { RolloutsService } from './rollouts.js';

type IdRoute = { Params: { id: string } };

// Audited after the fact (auditAfter): the rollouts service changes its rows in its own queue and
// transactions, which the leader's pass shares; a request transaction around it would wait for them.
export function rolloutRoutes(app: FastifyInstance, rollouts: RolloutsService): void {
  app.get('/rollouts', {
    config: { permission: 'releases:read' },
    schema: { tags: ['releases'], summary: 'The 50 newest rollouts with their per-wave progress', response: { 200: envelopeOf(Type.Array(RolloutView)) } },
  }, async () => ok(await rollouts.list()));

  app.get('/rollouts/current', {
    config: { permission: 'releases:read' },
    schema: { tags: ['releases'], summary: 'The newest rollout, with every host', response: { 200: envelopeOf(RolloutDetail) } },
  }, async () => ok(await rollouts.get()));

  app.get<IdRoute>('/rollouts/:id', {
    config: { permission: 'releases:read' },
    schema: { tags: ['releases'], summary: 'One rollout, with every host: wave, state, the version it ran before, the last message', params: RolloutIdParams, response: { 200: envelopeOf(RolloutDetail) } },
  }, async (req) => ok(await rollouts.get(req.params.id)));

  app.post<{ Body: CreateRolloutRequest }>('/rollouts', {
    config: { permission: 'releases:write', audit: 'releases.rollout', auditAfter: true },
    schema: {
      tags: ['releases'], body: CreateRolloutRequest, response: { 201: envelopeOf(RolloutDetail) },
      summary: 'Send a release to the selected hosts: canary first, then waves, halting past maxFail',
      description: 'Refused with 3010 while another rollout is running, paused or rolling back; 1004 for a version not uploaded; 2002 when no node matches; 1003 for nodes outside your scope.',
    },
  }, async (req, reply) => {
    const detail = await rollouts.create(principalOf(req), req.body);
    // The audit row names the rollout, as its halt, completion and rollback rows do.
    req.auditTarget = detail.id;
    reply.code(201);
    return ok(detail);
  });

  for (const [verb, summary] of [
    ['pause', 'Send no more hosts (hosts updating now finish)'],
    ['resume', 'Go on with a paused rollout'],
    ['rollback', 'Send RevertHost (to the version each ran before) to every host the rollout touched'],
  ] as const) {
    app.post<IdRoute>(`/rollouts/:id/${verb}`, {
      config: { permission: 'releases:write', audit: `releases.${verb}`, auditAfter: true },
      schema: { tags: ['releases'], summary, params: RolloutIdParams, response: { 200: envelopeOf(RolloutDetail) } },
    }, async (req) => ok(await rollouts[verb](req.params.id)));
  }
}
