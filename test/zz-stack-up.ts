import { startLocalStack } from '/work/wt-web/scripts/local-stack.js';
import { freePorts } from '/work/wt-web/test/helpers/ports.js';
import { writeFileSync } from 'node:fs';
const [a, b, c] = await freePorts(3);
const stack = await startLocalStack({ dataDir: '/tmp/webdev', httpPort: a, grpcPort: b, agentPort: c, nodeName: 'web-node', env: { OPS_METRICS_INTERVAL_SECONDS: '2' } });
writeFileSync('/tmp/webdev/info.json', JSON.stringify({ url: stack.httpUrl, admin: stack.admin, token: stack.token }));
console.log('up', stack.httpUrl);
process.on('SIGTERM', () => void stack.stop().then(() => process.exit(0)));
setInterval(() => {}, 1 << 30);
