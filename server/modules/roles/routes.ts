import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { CreateRoleRequest, RoleNameParams, RoleView } from '../../../proto/rest/roles.js';
import { principalOf } from '../../http/access.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import type { RolesService } from './service.js';

type NameParams = { name: string };

export function roleRoutes(app: FastifyInstance, roles: RolesService): void {
  app.get('/roles', {
    config: { permission: 'roles:read' },
    schema: { tags: ['accounts'], summary: 'Built-in and custom roles with their permissions', response: { 200: envelopeOf(Type.Array(RoleView)) } },
  }, async () => ok(await roles.list()));

  app.get<{ Params: NameParams }>('/roles/:name', {
    config: { permission: 'roles:read' },
    schema: { tags: ['accounts'], summary: 'One role', params: RoleNameParams, response: { 200: envelopeOf(RoleView) } },
  }, async (req) => ok(await roles.get(req.params.name)));

  app.post<{ Body: CreateRoleRequest }>('/roles', {
    config: { permission: 'roles:write', audit: 'roles.create' },
    schema: { tags: ['accounts'], summary: 'Create a custom role (only with permissions you hold)', body: CreateRoleRequest, response: { 201: envelopeOf(RoleView) } },
  }, async (req, reply) => {
    const role = await roles.create(principalOf(req), req.body);
    reply.code(201);
    return ok(role);
  });

  app.delete<{ Params: NameParams }>('/roles/:name', {
    config: { permission: 'roles:write', audit: 'roles.delete' },
    schema: { tags: ['accounts'], summary: 'Delete a custom role that nobody has', params: RoleNameParams, response: { 200: envelopeOf(Type.Null()) } },
  }, async (req) => {
    await roles.remove(req.params.name);
    return ok(null);
  });
}
