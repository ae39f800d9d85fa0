// agentd's command line, declared once as data: parsing, --help and the man page come from it.
import { COMMON_FLAGS, type DaemonSpec } from '../lib/daemon-cli.js';

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
  flags: [
    COMMON_FLAGS.find((f) => f.name === 'config')!,
    COMMON_FLAGS.find((f) => f.name === 'log-level')!,
    { name: 'listen', configKey: 'http.listen', type: 'string', valueName: 'HOST:PORT', description: 'address of the HTTP API (default 127.0.0.1:8442)' },
    { name: 'keys-file', configKey: 'auth.keysFile', type: 'string', valueName: 'FILE', description: 'JSON file of request-signing keys, mode 0600 (required)' },
    { name: 'hostd-socket', configKey: 'hostd.socket', type: 'string', valueName: 'PATH', description: "hostd's JSON-RPC Unix socket; empty runs standalone" },
    { name: 'pid-file', configKey: 'pidFile', type: 'string', valueName: 'FILE', description: 'write the process id here; removed at exit' },
    { name: 'max-concurrent', configKey: 'tasks.maxConcurrent', type: 'string', valueName: 'N', description: 'scripts run at once; the rest wait in order (default 10)' },
    { name: 'allow', configKey: 'http.allow', type: 'string', valueName: 'CIDRS', description: 'comma list of client networks allowed (default 127.0.0.1/32,::1/128)' },
    COMMON_FLAGS.find((f) => f.name === 'help')!,
    COMMON_FLAGS.find((f) => f.name === 'version')!,
  ],
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
