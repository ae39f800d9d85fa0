// Free loopback ports for tests that start real servers in other processes.
//
// A port is picked here and bound later by another process, so nothing else may take it in
// between. Ports are therefore drawn from below Linux's ephemeral range (32768–60999 by default),
// not from listen(0): the kernel hands the same ports to every outgoing connection on the machine,
// and with suites running side by side one of those once took a port before the agentd it was meant
// for could bind it. The test runner gives each lane its own slice (OPS_TEST_PORT_RANGE, "first-last"),
// so suites running at once never draw the same port; a process never hands one out twice.
import { createServer } from 'node:net';

const DEFAULT_RANGE: [number, number] = [10_000, 32_767];
const handedOut = new Set<number>();

function range(): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(process.env.OPS_TEST_PORT_RANGE ?? '');
  return m ? [Number(m[1]), Number(m[2])] : DEFAULT_RANGE;
}

/** Whether nothing listens on `port` at 127.0.0.1 now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  const [first, last] = range();
  const size = last - first + 1;
  const start = Math.floor(Math.random() * size);
  for (let i = 0; i < size; i++) {
    const port = first + ((start + i) % size);
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port left in ${first}-${last}`);
}

export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < n) ports.push(await freePort());
  return ports;
}
