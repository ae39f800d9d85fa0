// SetSampling is a new kind of ManagerMessage: a hostd built before it must decode it as a message
// of no known kind (which its switch ignores), not fail. Decoded here with the .proto as it was
// before the field existed, the way proto-loader decodes on such a hostd.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import { hostlinkProtoPath, PROTO_LOADER_OPTIONS } from '../../proto/hostlink.js';

type Codec = { serialize(v: object): Buffer; deserialize(b: Buffer): Record<string, unknown> };

function managerMessageCodec(protoFile: string): Codec {
  const def = protoLoader.loadSync(protoFile, PROTO_LOADER_OPTIONS);
  const connect = (def['opsctl.hostlink.v1.HostLink'] as Record<string, { responseSerialize: Codec['serialize']; responseDeserialize: Codec['deserialize'] }>).Connect;
  return { serialize: connect.responseSerialize, deserialize: connect.responseDeserialize };
}

test('an older hostd decodes SetSampling as a message of no kind; the current one as setSampling', () => {
  const current = managerMessageCodec(hostlinkProtoPath());
  const dir = mkdtempSync(join(tmpdir(), 'ops-proto-old-'));
  try {
    const text = readFileSync(hostlinkProtoPath(), 'utf8');
    const old = text.replace(/^\s*SetSampling set_sampling = 6;\n/m, '');
    assert.ok(old !== text, 'the field is in the current .proto');
    writeFileSync(join(dir, 'hostlink.proto'), old);
    const bytes = current.serialize({ setSampling: { intervalSeconds: 2, ttlSeconds: 60 } });
    assert.equal(current.deserialize(bytes).setSampling, { intervalSeconds: 2, ttlSeconds: 60 });
    assert.is(current.deserialize(bytes).kind, 'setSampling');
    const decoded = managerMessageCodec(join(dir, 'hostlink.proto')).deserialize(bytes);
    assert.is(decoded.kind, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
