// The host link's static codec (proto/gen/hostlink-codec.ts, what hostd and the manager run) must
// put the same bytes on the wire and hand over the same values as proto-loader reading
// hostlink.proto with the same options: a peer built either way understands the other.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as protoLoader from '@grpc/proto-loader';
import type { MethodDefinition } from '@grpc/proto-loader';
import { hostlinkProtoPath, PROTO_LOADER_OPTIONS } from '../../proto/hostlink.js';
import { hostLinkServiceDefinition } from '../../proto/hostlink-service.js';

type Method = Pick<MethodDefinition<object, object>, 'path' | 'requestStream' | 'responseStream' | 'originalName'
  | 'requestSerialize' | 'requestDeserialize' | 'responseSerialize' | 'responseDeserialize'>;

const loaded = protoLoader.loadSync(hostlinkProtoPath(), PROTO_LOADER_OPTIONS)['opsctl.hostlink.v1.HostLink'] as Record<string, Method>;
const ours = hostLinkServiceDefinition() as unknown as Record<string, Method>;

test('the same methods, paths, streaming and camel-cased names', () => {
  assert.equal(Object.keys(ours).sort(), Object.keys(loaded).sort());
  for (const [name, m] of Object.entries(loaded)) {
    const o = ours[name];
    assert.equal([o.path, o.requestStream, o.responseStream, o.originalName], [m.path, m.requestStream, m.responseStream, m.originalName], name);
  }
});

const hostMessages: object[] = [
  { hello: {
    facts: { hostname: 'web-1', os: 'Debian GNU/Linux 12', platform: 'linux', kernel: '6.1', arch: 'x64', cpuModel: 'x', cpus: 2, memoryBytes: 8_589_934_592, ips: ['10.0.0.1', '::1'] },
    hostdVersion: '0.1.0', agentVersion: '0.1.0', agentStatus: 'healthy', capabilities: { taskKinds: ['script', 'file'] },
    knownRuns: ['r1', 'r2'], reportsRuns: true, labels: { env: 'prod', 'team.x': 'ops' },
  } },
  { heartbeat: {} },
  { metrics: { atMs: 1_764_150_000_123, cpuPercent: 12.5, memUsedBytes: 3_000_000_000, memTotalBytes: 8_589_934_592, load1: 0.5, load5: 0.25, load15: 0,
    disks: [{ mount: '/', sizeBytes: 100_000_000_000, usedBytes: 42 }], netRxBytes: 2 ** 40, netTxBytes: 0 } },
  { taskEvent: { runId: 'r1', seq: 3, output: { stream: 'stderr', data: 'héllo\n', atMs: 5 } } },
  { taskEvent: { runId: 'r1', seq: 4, exited: { atMs: 9, exitCode: -1, signal: 'SIGKILL', durationMs: 4, status: 'timeout', error: 'e', errorCode: 2004, resultJson: '{}' } } },
  { taskEvent: { runId: 'r2', seq: 1, fileData: { offset: 65_536, data: Buffer.from([0, 1, 254, 255]) } } },
  {},
];

const managerMessages: object[] = [
  { dispatch: { runId: 'r1', taskId: 't1', timeoutMs: 30_000, script: { script: 'echo "$A"', interpreter: 'bash', env: { A: 'b c' } } } },
  { dispatch: { runId: 'r2', taskId: 't2', timeoutMs: 0, file: { op: 'upload', path: '/tmp/x', dest: '', recursive: false, sha256: 'ab', size: 3, mode: '0644', owner: '', maxBytes: 0 } } },
  { dispatch: { runId: 'r3', taskId: 't3', service: { action: 'restart', name: 'nginx' } } },
  { dispatch: { runId: 'r4', taskId: 't4', plugin: { name: 'p', params: { n: '1' } } } },
  { cancel: { runId: 'r1' } },
  { fileChunk: { runId: 'r2', offset: 0, data: Buffer.from('abc'), eof: true } },
  { eventAck: { runs: [{ runId: 'r1', seq: 4 }] } },
  { setSampling: { intervalSeconds: 2, ttlSeconds: 60 } },
];

function agree(label: string, values: object[], serialize: (m: Method) => Method['requestSerialize'], deserialize: (m: Method) => Method['requestDeserialize']): void {
  for (const value of values) {
    const bytes = serialize(ours.Connect)(value);
    assert.equal([...bytes], [...serialize(loaded.Connect)(value)], `${label} bytes: ${JSON.stringify(value)}`);
    assert.equal(deserialize(ours.Connect)(bytes), deserialize(loaded.Connect)(bytes), `${label} decoded: ${JSON.stringify(value)}`);
  }
}

test('host messages: same bytes, same decoded values (oneof names, defaults, 64-bit numbers, maps, bytes)', () => {
  agree('HostMessage', hostMessages, (m) => m.requestSerialize, (m) => m.requestDeserialize);
  const decoded = ours.Connect.requestDeserialize(ours.Connect.requestSerialize(hostMessages[2])) as { kind: string; metrics: { netRxBytes: unknown; disks: { sizeBytes: unknown }[] } };
  assert.is(decoded.kind, 'metrics');
  assert.is(decoded.metrics.netRxBytes, 2 ** 40);
  assert.is(decoded.metrics.disks[0].sizeBytes, 100_000_000_000);
});

test('manager messages: same bytes, same decoded values', () => {
  agree('ManagerMessage', managerMessages, (m) => m.responseSerialize, (m) => m.responseDeserialize);
});

test('enroll and renew: same bytes, same decoded values both ways', () => {
  const calls: [string, object, object][] = [
    ['Enroll', { token: 't', nodeName: 'web-1', csrPem: 'pem' }, { nodeId: 'id', certificatePem: 'c', caPem: 'a', held: true }],
    ['Renew', { csrPem: 'pem' }, { certificatePem: 'c', caPem: 'a' }],
  ];
  for (const [name, request, response] of calls) {
    const [o, l] = [ours[name], loaded[name]];
    assert.equal([...o.requestSerialize(request)], [...l.requestSerialize(request)], name);
    assert.equal(o.requestDeserialize(l.requestSerialize(request)), l.requestDeserialize(l.requestSerialize(request)), name);
    assert.equal([...o.responseSerialize(response)], [...l.responseSerialize(response)], name);
    assert.equal(o.responseDeserialize(l.responseSerialize(response)), l.responseDeserialize(l.responseSerialize(response)), name);
  }
});

test('a value of the wrong type is refused the same way', () => {
  const bad = { metrics: 'not a message' };
  let ourError = '', theirError = '';
  try { ours.Connect.requestSerialize(bad); } catch (err) { ourError = (err as Error).message; }
  try { loaded.Connect.requestSerialize(bad); } catch (err) { theirError = (err as Error).message; }
  assert.ok(ourError, 'refused');
  assert.is(ourError, theirError);
});

test.run();
