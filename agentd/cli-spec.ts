// agentd's command line, declared once as data: parsing, --help and the man page come from it.
// The flags themselves live in proto/agentd-flags.ts, because hostd builds agentd's command line
// from the same declaration.
import type { DaemonSpec } from '../lib/daemon-cli.js';
import { AGENTD_FLAGS } from '../proto/agentd-flags.js';

export const AGENTD_SPEC: DaemonSpec = {
  name: 'agentd',
  summary: 'the opsctl per-host agent: runs scripts for hostd and opsctl over a signed HTTP API',
  description: [
    'agentd listens on HTTP (or HTTPS) for requests signed with HMAC-SHA256 by a key from its keys',
    'file, runs the scripts it is asked to run in their own process groups, and streams their output',
    'back as NDJSON. When a hostd socket is configured it reports to hostd over JSON-RPC and keeps',
    'running (reconnecting every 2 s) while hostd is away.',
    'Configuration: flags > OPS_* environment > YAML file (--config) > defaults.',
  ].join('\n'),
  flags: [...AGENTD_FLAGS],
  examples: [
    'agentd --keys-file /etc/opsctl/agentd-keys.json',
    'agentd --config /etc/opsctl/agentd.yaml --hostd-socket /run/opsctl/hostd.sock --pid-file /run/opsctl/agentd.pid',
    'agentd --keys-file keys.json --listen 0.0.0.0:8442 --allow 10.0.0.0/8,127.0.0.1/32 --max-concurrent 4',
  ],
  files: [
    { path: '/etc/opsctl/agentd.yaml', description: 'configuration (see configs/agentd.yaml for every option)' },
    { path: '/etc/opsctl/agentd-keys.json', description: 'signing keys {"keys": {"<keyId>": "<secret hex>"}}, mode 0600; hostd writes key id "hostd"' },
  ],
};
