import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ChangePasswordRequest, CreateUserRequest, PasswordChanged, SetRoleRequest, UserCreated, UsernameParams, UserView } from '../../../proto/rest/users.js';
import { principalOf } from '../../http/access.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import type { UsersService } from './service.js';

type NameParams = { name: string };

export function userRoutes(app: FastifyInstance, users: UsersService): void {
  app.get('/users', {
    config: { permission: 'users:read' },
    schema: { tags: ['accounts'], summary: 'List users', response: { 200: envelopeOf(Type.Array(UserView)) } },
  }, async () => ok(await users.list()));

  app.get<{ Params: NameParams }>('/users/:name', {
    config: { permission: 'users:read' },
    schema: { tags: ['accounts'], summary: 'Show one user', params: UsernameParams, response: { 200: envelopeOf(UserView) } },
  }, async (req) => ok(await users.get(req.params.name)));

  app.post<{ Body: CreateUserRequest }>('/users', {
    config: { permission: 'users:write', audit: 'users.create' },
    schema: {
      tags: ['accounts'], summary: 'Create a user (with a role and scope you hold); without a password one is generated and shown once',
      body: CreateUserRequest, response: { 201: envelopeOf(UserCreated) },
    },
  }, async (req, reply) => {
    const created = await users.create(principalOf(req), req.body);
    reply.code(201);
    return ok(created);
  });

  app.delete<{ Params: NameParams }>('/users/:name', {
    config: { permission: 'users:write', audit: 'users.delete' },
    schema: { tags: ['accounts'], summary: 'Delete a user; their sessions and API tokens end with them', params: UsernameParams, response: { 200: envelopeOf(Type.Null()) } },
  }, async (req) => {
    await users.remove(principalOf(req), req.params.name);
    return ok(null);
  });

  app.put<{ Params: NameParams; Body: SetRoleRequest }>('/users/:name/role', {
    config: { permission: 'users:write', audit: 'users.set-role' },
    schema: { tags: ['accounts'], summary: 'Change a user\'s role and scope', params: UsernameParams, body: SetRoleRequest, response: { 200: envelopeOf(UserView) } },
  }, async (req) => ok(await users.setRole(principalOf(req), req.params.name, req.body)));

  app.post<{ Params: NameParams; Body: ChangePasswordRequest }>('/users/:name/password', {
    // One's own needs only a session; someone else's needs users:write (checked by the service).
    config: { authenticated: true, audit: 'users.password' },
    schema: {
      tags: ['accounts'], summary: 'Change your password (currentPassword required) or reset another user\'s (ends their sessions)',
      params: UsernameParams, body: ChangePasswordRequest, response: { 200: envelopeOf(PasswordChanged) },
    },
  }, async (req) => ok(await users.changePassword(principalOf(req), req.params.name, req.body)));
}
