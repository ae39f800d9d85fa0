import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { CreateGroupRequest, GroupDetail, GroupNameParams, GroupView, UpdateGroupRequest } from '../../../proto/rest/groups.js';
import { principalOf } from '../../http/access.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import type { GroupsService } from './service.js';

type NameParams = { name: string };

export function groupRoutes(app: FastifyInstance, groups: GroupsService): void {
  app.get('/groups', {
    config: { permission: 'groups:read' },
    schema: { tags: ['nodes'], summary: 'Groups in the caller\'s scope (all when unscoped), sorted by name', response: { 200: envelopeOf(Type.Array(GroupView)) } },
  }, async (req) => ok(await groups.list(principalOf(req))));

  app.get<{ Params: NameParams }>('/groups/:name', {
    config: { permission: 'groups:read' },
    schema: { tags: ['nodes'], summary: 'One group with the names of its nodes', params: GroupNameParams, response: { 200: envelopeOf(GroupDetail) } },
  }, async (req) => ok(await groups.get(principalOf(req), req.params.name)));

  app.post<{ Body: CreateGroupRequest }>('/groups', {
    config: { permission: 'groups:write', audit: 'groups.create' },
    schema: {
      tags: ['nodes'], summary: 'Create a group: static (empty; add nodes with PATCH) or dynamic (a label selector)',
      description: 'A dynamic group holds every node whose labels (host\'s overlaid by operator\'s) match, now and later. 1001 with the parser\'s message for a selector that does not parse; 1005 for a name taken.',
      body: CreateGroupRequest, response: { 201: envelopeOf(GroupDetail) },
    },
  }, async (req, reply) => {
    const group = await groups.create(principalOf(req), req.body);
    reply.code(201);
    return ok(group);
  });

  app.patch<{ Params: NameParams; Body: UpdateGroupRequest }>('/groups/:name', {
    config: { permission: 'groups:write', audit: 'groups.update' },
    schema: {
      tags: ['nodes'], summary: 'Add and remove nodes (static group), change the selector (dynamic group) or the description',
      description: 'add/remove on a dynamic group is 1001; a node that does not exist (or is outside the caller\'s scope) is 404 naming it.',
      params: GroupNameParams, body: UpdateGroupRequest, response: { 200: envelopeOf(GroupDetail) },
    },
  }, async (req) => ok(await groups.update(principalOf(req), req.params.name, req.body)));

  app.delete<{ Params: NameParams }>('/groups/:name', {
    config: { permission: 'groups:write', audit: 'groups.delete' },
    schema: { tags: ['nodes'], summary: 'Delete a group; every node leaves it', params: GroupNameParams, response: { 200: envelopeOf(Type.Null()) } },
  }, async (req) => {
    await groups.remove(principalOf(req), req.params.name);
    return ok(null);
  });
}
