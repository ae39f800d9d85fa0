// `npm start`: a working opsctl system on this machine on the embedded defaults — the manager on
// SQLite in ./data/manager, a hostd enrolled to it, and the agentd it starts — so you see your own
// machine as a node. Ctrl-C stops all of it. Logs go to ./data/logs/.
import { join, resolve } from 'node:path';
import { packageRoot } from '../lib/version.js';
import { startLocalStack } from './local-stack.js';

const dataDir = resolve(process.env.OPS_DEV_DATA_DIR ?? 'data');
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

async function main(): Promise<void> {
  console.error(`Starting the manager, hostd and agentd (data in ${dataDir}) ...`);
  const stack = await startLocalStack({
    dataDir,
    httpPort: port('OPS_DEV_HTTP_PORT', 8440),
    grpcPort: port('OPS_DEV_GRPC_PORT', 8441),
    agentPort: port('OPS_DEV_AGENT_PORT', 8442),
  });
  // The package's bin/, wherever this was started from (the data folder is the caller's).
  const bin = join(packageRoot(), 'bin');
  console.log(`
opsctl is up.

  web UI     ${stack.httpUrl}/   (sign in as the admin below)
  manager    ${stack.httpUrl}   (REST API, OpenAPI at ${stack.httpUrl}/api/v1/openapi.json)
  host link  ${stack.grpcAddress}   (gRPC, mutual TLS)
  admin      user ${stack.admin.username}, password ${stack.admin.password}
  node       ${stack.nodeName} (this machine)
  logs       ${stack.logDir}/

Try, in another terminal:

  export PATH="${bin}:$PATH"
  opsctl login --server ${stack.httpUrl} --username ${stack.admin.username} --password ${stack.admin.password}
  opsctl nodes ls
  opsctl nodes show ${stack.nodeName}
  opsctl tasks run --all -- uname -a
  opsctl nodes token create --uses 1 --ttl 1h     # enroll another host

Press Ctrl-C to stop everything.`);

  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    console.error('\nStopping hostd, agentd and the manager ...');
    void stack.stop().then(() => { console.error('Stopped.'); process.exit(0); });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  for (const [name, child] of [['manager', stack.manager], ['hostd', stack.hostd]] as const) {
    child.on('exit', (code, signal) => {
      if (stopping) return;
      console.error(`${name} exited unexpectedly (${signal ?? `code ${code}`}); see ${stack.logDir}/${name}.log`);
      onSignal();
    });
  }
}

main().catch((err: Error) => {
  console.error(`Error: ${err.message}`);
  process.exit(1);
});
