// FetchRelease over real mutual TLS on loopback, the bundles in the memory backend: a client
// certificate is required (as for Connect), an unknown version is NOT_FOUND, a download resumes
// from an offset, and a host that does not read holds the manager back (back-pressure).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as grpc from '../../hostd/grpc-h2-client.js';
import { createHash } from 'node:crypto';
import { createKeyAndCsr } from '../../hostd/enroll.js';
import type { HostLinkClient } from '../../hostd/grpc-client.js';
import type { ReleaseChunk__Output } from '../../proto/gen/opsctl/hostlink/v1/ReleaseChunk.js';
import { client, enroll, startGateway, type TestGateway } from './helpers.js';

let gw: TestGateway;
const clients: HostLinkClient[] = [];
const track = (c: HostLinkClient) => { clients.push(c); return c; };
const BUNDLE = Buffer.alloc(32 * 1024 * 1024);
for (let i = 0; i < BUNDLE.length; i += 4096) BUNDLE.writeUInt32BE(i, i);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test.before(async () => {
  gw = await startGateway();
  gw.backend.bundles.set('1.2.0 linux x64', BUNDLE);
});
test.after(async () => {
  for (const c of clients) c.close();
  await gw.close();
});

async function host(name: string): Promise<{ link: HostLinkClient; nodeId: string }> {
  const { keyPem, csrPem } = createKeyAndCsr(name);
  const res = await enroll(track(client(gw.address, { caPem: gw.gateway.caPem() })), { token: gw.backend.addToken(`tok-${name}`), nodeName: name, csrPem });
  return { link: track(client(gw.address, { caPem: res.caPem, keyPem, certPem: res.certificatePem })), nodeId: res.nodeId };
}

function fetchAll(link: HostLinkClient, req: { version: string; platform: string; arch: string; offset?: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    const call = link.FetchRelease({ offset: 0, ...req });
    call.on('data', (c: ReleaseChunk__Output) => parts.push(c.data));
    call.on('error', reject);
    call.on('end', () => resolve(Buffer.concat(parts)));
  });
}

async function fetchError(link: HostLinkClient, req: { version: string; platform: string; arch: string; offset?: number }): Promise<grpc.ServiceError> {
  try { await fetchAll(link, req); } catch (err) { return err as grpc.ServiceError; }
  throw new Error('the download was served');
}

test('no client certificate, or a revoked one → UNAUTHENTICATED, nothing read', async () => {
  const anonymous = track(client(gw.address, { caPem: gw.gateway.caPem() }));
  const err = await fetchError(anonymous, { version: '1.2.0', platform: 'linux', arch: 'x64' });
  assert.is(err.code, grpc.status.UNAUTHENTICATED);
  const revoked = await host('fr-revoked');
  gw.backend.nodes.get(revoked.nodeId)!.revoked = true;
  assert.is((await fetchError(revoked.link, { version: '1.2.0', platform: 'linux', arch: 'x64' })).code, grpc.status.UNAUTHENTICATED);
  assert.is(gw.backend.opened.length, 0);
});

test('the whole bundle, byte for byte; an unknown version or platform → NOT_FOUND; a resumed download gets the rest', async () => {
  const { link } = await host('fr-1');
  const all = await fetchAll(link, { version: '1.2.0', platform: 'linux', arch: 'x64' });
  assert.is(sha(all), sha(BUNDLE));
  const missing = await fetchError(link, { version: '9.9.9', platform: 'linux', arch: 'x64' });
  assert.is(missing.code, grpc.status.NOT_FOUND);
  assert.match(missing.details, /no release 9.9.9 for linux-x64/);
  assert.is((await fetchError(link, { version: '1.2.0', platform: 'linux', arch: 'arm64' })).code, grpc.status.NOT_FOUND);
  const offset = 3 * 1024 * 1024 + 17;
  const rest = await fetchAll(link, { version: '1.2.0', platform: 'linux', arch: 'x64', offset });
  assert.is(sha(rest), sha(BUNDLE.subarray(offset)));
  assert.is((await fetchError(link, { version: '1.2.0', platform: 'linux', arch: 'x64', offset: BUNDLE.length + 1 })).code, grpc.status.OUT_OF_RANGE);
});

test('a host that stops reading holds the manager back: it reads ahead only a bounded amount', async () => {
  const { link } = await host('fr-slow');
  const before = gw.backend.opened.length;
  const call = link.FetchRelease({ version: '1.2.0', platform: 'linux', arch: 'x64', offset: 0 });
  let got = 0;
  await new Promise<void>((resolve) => call.once('data', (c: ReleaseChunk__Output) => { got += c.data.length; call.pause(); resolve(); }));
  // Paused: give the manager time to push everything it would if it did not wait. HTTP/2 windows
  // and socket buffers take a few MiB whatever the manager does; the rest must wait for the host.
  await new Promise((r) => setTimeout(r, 1000));
  const produced = gw.backend.opened[before].produced;
  assert.ok(produced < BUNDLE.length / 2, `the manager read ${produced} of ${BUNDLE.length} bytes for a host that took ${got}`);
  // Reading again, the rest arrives whole.
  const parts: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    call.on('data', (c: ReleaseChunk__Output) => parts.push(c.data));
    call.on('end', resolve);
    call.on('error', reject);
    call.resume();
  });
  assert.is(got + Buffer.concat(parts).length, BUNDLE.length);
  assert.is(gw.backend.opened[before].produced, BUNDLE.length);
});

test.run();
