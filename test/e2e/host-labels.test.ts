// End to end: labels declared in a real hostd's hostd.yaml reach the manager in its hello, put
// the node in a dynamic group, and an operator's label of the same key wins. Needs `npm run build`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GroupDetail } from '../../proto/rest/groups.js';
import type { NodeDetail } from '../../proto/rest/nodes.js';
import { api, runBin, startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { freePorts } from '../helpers/ports.js';

const dataDir = mkdtempSync(join(tmpdir(), 'ops-e2e-labels-'));
let stack: LocalStack;

async function data<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await api<T>(stack.httpUrl, stack.token, method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.body.message}`);
  return res.body.data;
}

test.before(async () => {
  const [httpPort, grpcPort, agentPort] = await freePorts(3);
  stack = await startLocalStack({ dataDir, httpPort, grpcPort, agentPort, nodeName: 'plain-node' });
});

test.after(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a hostd with labels in its hostd.yaml: stored as host labels, matched by a dynamic group; the operator\'s label wins', async () => {
  await data('POST', '/groups', { name: 'prod-edge', selector: 'env=prod,example.com/role=edge' });
  const config = join(dataDir, 'labelled.yaml');
  writeFileSync(config, 'labels:\n  env: prod\n  example.com/role: edge\n');
  const [agentPort] = await freePorts(1);
  await stack.addHost('edge-1', agentPort, {}, config);

  const node = await data<NodeDetail>('GET', '/nodes/edge-1');
  assert.equal(node.hostLabels, { env: 'prod', 'example.com/role': 'edge' });
  assert.equal(node.labels, {});
  assert.equal((await data<GroupDetail>('GET', '/groups/prod-edge')).nodes, ['edge-1'], 'the new host joined the dynamic group by itself');

  await data('PATCH', '/nodes/edge-1/labels', { set: { env: 'staging' } });
  assert.equal((await data<GroupDetail>('GET', '/groups/prod-edge')).nodes, [], 'env=staging from the operator overrides the host\'s env=prod');
  const staging = await data<NodeDetail[]>('GET', `/nodes?labels=${encodeURIComponent('env=staging,example.com/role=edge')}`);
  assert.equal(staging.map((n) => n.name), ['edge-1']);
  assert.equal((await data<NodeDetail>('GET', '/nodes/plain-node')).hostLabels, {}, 'a hostd without labels declares none');
});

test('a bad label key in hostd.yaml stops hostd at start (exit 2), naming the key', async () => {
  const config = join(dataDir, 'bad-labels.yaml');
  writeFileSync(config, 'labels:\n  "bad key": x\n');
  const r = await runBin('hostd', ['--config', config, '--data-dir', join(dataDir, 'never')], { ...process.env });
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /labels: label key "bad key"/);
});

test.run();
