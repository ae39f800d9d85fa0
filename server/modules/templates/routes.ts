import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  CreateTemplateRequest, TemplateDeleteQuery, TemplateNameParams, TemplateShowQuery, TemplateSummary, TemplateView, UpdateTemplateRequest,
} from '../../../proto/rest/templates.js';
import { principalOf } from '../../http/access.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import type { TemplatesService } from './service.js';

type NameParams = { name: string };

export function templateRoutes(app: FastifyInstance, templates: TemplatesService): void {
  app.get('/templates', {
    config: { permission: 'templates:read' },
    schema: { tags: ['templates'], summary: 'Templates with their latest version\'s parameters', response: { 200: envelopeOf(Type.Array(TemplateSummary)) } },
  }, async () => ok(await templates.list()));

  app.post<{ Body: CreateTemplateRequest }>('/templates', {
    config: { permission: 'templates:write', audit: 'templates.create' },
    schema: {
      tags: ['templates'], summary: 'Store a script with typed parameters as version 1 of a new template',
      description: 'Parameters are string, int, bool or enum; one without a default is required. Run it with POST /tasks {template: {name, params}}: ' +
        'the values are checked and reach the script as environment variables OPS_PARAM_<NAME>. 1005 when the name exists.',
      body: CreateTemplateRequest, response: { 201: envelopeOf(TemplateView) },
    },
  }, async (req, reply) => {
    const template = await templates.create(principalOf(req), req.body);
    reply.code(201);
    return ok(template);
  });

  app.get<{ Params: NameParams; Querystring: { version?: number } }>('/templates/:name', {
    config: { permission: 'templates:read' },
    schema: {
      tags: ['templates'], summary: 'One template: a version in full (default the latest), its version list and the schedules using it',
      params: TemplateNameParams, querystring: TemplateShowQuery, response: { 200: envelopeOf(TemplateView) },
    },
  }, async (req) => ok(await templates.get(req.params.name, req.query.version)));

  app.get<{ Params: NameParams }>('/templates/:name/versions', {
    config: { permission: 'templates:read' },
    schema: { tags: ['templates'], summary: 'The versions of a template, newest first', params: TemplateNameParams, response: { 200: envelopeOf(TemplateView.properties.versions) } },
  }, async (req) => ok((await templates.get(req.params.name)).versions));

  app.post<{ Params: NameParams; Body: UpdateTemplateRequest }>('/templates/:name/versions', {
    config: { permission: 'templates:write', audit: 'templates.update' },
    schema: {
      tags: ['templates'], summary: 'Add a version (the new latest): what the body leaves out is kept from the latest version',
      params: TemplateNameParams, body: UpdateTemplateRequest, response: { 201: envelopeOf(TemplateView) },
    },
  }, async (req, reply) => {
    const template = await templates.addVersion(principalOf(req), req.params.name, req.body);
    reply.code(201);
    return ok(template);
  });

  app.delete<{ Params: NameParams; Querystring: { force?: boolean } }>('/templates/:name', {
    config: { permission: 'templates:write', audit: 'templates.delete' },
    schema: {
      tags: ['templates'], summary: 'Delete a template and all its versions',
      description: 'Refused (1005, naming them) while schedules use it; with ?force=true they are paused instead, with the reason shown on them.',
      params: TemplateNameParams, querystring: TemplateDeleteQuery,
      response: { 200: envelopeOf(Type.Object({ pausedSchedules: Type.Array(Type.String()) })) },
    },
  }, async (req) => ok(await templates.remove(req.params.name, req.query.force ?? false)));
}
