// Live streams to clients that never read must not grow the manager's memory: starts a real
// manager and one host on loopback, opens --readers SSE streams of a task that prints --mib MiB,
// never reads them, and samples the manager's resident memory (VmRSS) until the task ends.
// Prints the manager's memory before, its peak, and the growth. Only REST and SSE are used, so the
// same file runs against an older checkout: node --import tsx bench/slow-readers.ts (from there).
// Bounded: one task with a 300 s timeout; loopback only; temp dirs removed at the end.
//
// Usage: npm run build && node dist/bench/slow-readers.js [--readers 4] [--mib 200]
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { api, startLocalStack } from '../scripts/local-stack.js';
import { freePorts } from '../test/helpers/ports.js';
import { procStatus } from './proc.js';

const { values } = parseArgs({ options: {
  readers: { type: 'string', default: '4' },
  mib: { type: 'string', default: '200' },
} });
const READERS = Number(values.readers);
const MIB = Number(values.mib);

const hardStop = setTimeout(() => { console.error('slow-readers bench: over 10 minutes; giving up'); process.exit(2); }, 10 * 60_000);
hardStop.unref();

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ops-bench-slow-'));
  const [httpPort, grpcPort, agentPort] = await freePorts(3);
  const stack = await startLocalStack({ dataDir, httpPort, grpcPort, agentPort, nodeName: 'slow-0', logLevel: 'warn', timeoutMs: 60_000 });
  const sockets: Socket[] = [];
  try {
    const pid = stack.manager.pid!;
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const before = procStatus(pid).rssKb;
    // Lines of 1000 characters, MIB MiB in all.
    const lines = Math.round((MIB * 1024 * 1024) / 1001);
    const created = await api<{ id: string }>(stack.httpUrl, stack.token, 'POST', '/tasks', {
      selector: { all: true }, script: `yes "$(printf '%0999d' 0)" | head -n ${lines}`, timeoutSeconds: 300,
    });
    if (created.status !== 201) throw new Error(`POST /tasks: ${created.body.message}`);
    const id = created.body.data.id;
    for (let i = 0; i < READERS; i++) {
      const socket = connect(httpPort, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(`GET /api/v1/tasks/${id}/events HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${stack.token}\r\n\r\n`);
      socket.pause(); // never read
      socket.on('error', () => {});
      sockets.push(socket);
    }
    let peak = before;
    for (;;) {
      peak = Math.max(peak, procStatus(pid).rssKb);
      const t = await api<{ status: string }>(stack.httpUrl, stack.token, 'GET', `/tasks/${id}`);
      if (t.body.data.status !== 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    for (let i = 0; i < 10; i++) {
      peak = Math.max(peak, procStatus(pid).rssKb);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const mb = (kb: number) => (kb / 1024).toFixed(0);
    console.log(`${READERS} readers that never read, ${MIB} MiB of output: manager RSS before ${mb(before)} MB, peak ${mb(peak)} MB, growth ${mb(peak - before)} MB`);
  } finally {
    for (const s of sockets) s.destroy();
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
