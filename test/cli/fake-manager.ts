// A test double of the manager's REST API for the CLI tests: a real Fastify server on an ephemeral
// loopback port answering with the real envelope, so opsctl is exercised over real HTTP and SSE.
// It stands in only until server/ is ready; test/e2e drives opsctl against the real manager.
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { CreateTaskRequest, EnrollmentTokenCreated, NodeDetail, NodeSummary, TaskDetail, TaskStreamEvent, TaskSummary } from '../../proto/rest.js';

export const ADMIN = { username: 'admin', password: 'correct horse' };
export const TOKEN = 'jwt-test-token';

export interface SseWriter {
  send(ev: TaskStreamEvent): void;
  /** Writes raw bytes, to split events and lines across chunks. */
  raw(text: string): void;
  end(): void;
}

export interface FakeManager {
  url: string;
  app: FastifyInstance;
  nodes: NodeSummary[];
  /** When set, computes the node list per request (for times relative to now). */
  nodesAtRequest?: () => NodeSummary[];
  details: Record<string, NodeDetail>;
  tasks: TaskDetail[];
  /** Every request seen: method, url, body. */
  requests: { method: string; url: string; body: unknown; authorization?: string }[];
  /** Plays a task's event stream; set per test. */
  stream: (task: TaskDetail, out: SseWriter) => Promise<void> | void;
  close(): Promise<void>;
}

function envelope<T>(data: T, code = 0, message = 'ok') {
  return { code, message, data, timestamp: new Date().toISOString() };
}

function fail(reply: FastifyReply, status: number, code: number, message: string) {
  return reply.code(status).send(envelope(null, code, message));
}

export function sampleTask(id: string, body: CreateTaskRequest, nodes: string[]): TaskDetail {
  return {
    id,
    status: 'running',
    script: body.script,
    interpreter: body.interpreter ?? 'sh',
    timeoutSeconds: body.timeoutSeconds ?? 300,
    createdBy: 'admin',
    createdAt: '2025-01-02T03:04:05.000Z',
    finishedAt: null,
    counts: { total: nodes.length, succeeded: 0, failed: 0, pending: nodes.length },
    runs: nodes.map((node, i) => ({
      id: `${id}-r${i + 1}`, node, status: 'pending', exitCode: null, error: null,
      startedAt: null, finishedAt: null, durationMs: null, output: '', outputTruncated: false,
    })),
  };
}

export async function startFakeManager(): Promise<FakeManager> {
  const app = Fastify({ logger: false });
  const fake: FakeManager = {
    url: '',
    app,
    nodes: [],
    details: {},
    tasks: [],
    requests: [],
    stream: (_task, out) => out.end(),
    close: async () => { await app.close(); },
  };
  let taskSeq = 0;

  app.addHook('onRequest', async (req, reply) => {
    fake.requests.push({ method: req.method, url: req.url, body: undefined, authorization: req.headers.authorization });
    if (req.url === '/api/v1/auth/login') return;
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return fail(reply, 401, 1002, 'missing or invalid access token');
  });
  app.addHook('preHandler', async (req) => { fake.requests[fake.requests.length - 1].body = req.body; });

  app.post('/api/v1/auth/login', async (req, reply) => {
    const { username, password } = req.body as { username: string; password: string };
    if (username !== ADMIN.username || password !== ADMIN.password) return fail(reply, 401, 1002, 'invalid username or password');
    return envelope({ token: TOKEN, expiresAt: '2030-01-01T00:00:00.000Z', user: { id: 'u1', username, role: 'admin' } });
  });

  app.get('/api/v1/nodes', async () => envelope(fake.nodesAtRequest?.() ?? fake.nodes));
  app.get('/api/v1/nodes/:name', async (req, reply) => {
    const { name } = req.params as { name: string };
    const node = fake.details[name];
    return node ? envelope(node) : fail(reply, 404, 1004, `node ${name} not found`);
  });

  app.post('/api/v1/enrollment-tokens', async (req, reply) => {
    const body = req.body as { uses: number; ttlSeconds: number };
    const created: EnrollmentTokenCreated = {
      id: 'et1', token: 'tok_abcDEF123-_', uses: body.uses, expiresAt: '2025-01-02T04:04:05.000Z',
      grpcAddress: 'manager.example:8441', caHash: 'ab'.repeat(32),
    };
    return reply.code(201).send(envelope(created));
  });

  app.post('/api/v1/tasks', async (req, reply) => {
    const body = req.body as CreateTaskRequest;
    const all = fake.nodes.map((n) => n.name);
    const names = body.selector.all ? all : (body.selector.names ?? []).filter((n) => all.includes(n));
    if (names.length === 0) return fail(reply, 422, 2002, 'no node matches the selector');
    const task = sampleTask(`t${++taskSeq}`, body, names);
    fake.tasks.push(task);
    return reply.code(201).send(envelope(task));
  });

  app.get('/api/v1/tasks', async () => envelope(fake.tasks.map(({ runs: _runs, ...summary }): TaskSummary => summary)));
  app.get('/api/v1/tasks/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    const task = fake.tasks.find((t) => t.id === id);
    return task ? envelope(task) : fail(reply, 404, 1004, `task ${id} not found`);
  });

  app.get('/api/v1/tasks/:id/events', async (req, reply) => {
    const { id } = req.params as { id: string };
    const task = fake.tasks.find((t) => t.id === id);
    if (!task) return fail(reply, 404, 1004, `task ${id} not found`);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.flushHeaders();
    const out: SseWriter = {
      send: (ev) => { res.write(`event: ${ev.type}\ndata: ${JSON.stringify(ev)}\n\n`); },
      raw: (text) => { res.write(text); },
      end: () => { res.end(); },
    };
    await fake.stream(task, out);
  });

  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  fake.url = `http://127.0.0.1:${port}`;
  return fake;
}
