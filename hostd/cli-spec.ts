// hostd's command line, declared once as data: parsing, --help and the man page come from it.
import { COMMON_FLAGS, type DaemonSpec } from '../lib/daemon-cli.js';

const common = (name: string) => COMMON_FLAGS.find((f) => f.name === name)!;

export const HOSTD_SPEC: DaemonSpec = {
  name: 'hostd',
  summary: 'the opsctl per-host daemon: links the host to the manager and supervises agentd',
  description: [
    'hostd keeps one gRPC stream (TLS 1.3, mutual TLS) open to the manager, dialling out so it',
    'works behind NAT; it sends facts, heartbeats and metrics, relays tasks to agentd and streams',
    'their output back. On first start it enrolls with a one-time token ($OPS_ENROLL_TOKEN, or',
    '--token) and keeps the key and certificate it got in --data-dir; later starts need no token.',
    'A name already enrolled with another key waits for an operator (opsctl nodes approve NAME):',
    'hostd logs "waiting for approval" with its key fingerprint and retries until then. The client',
    'certificate is renewed (new key pair) when a third of its lifetime is left.',
    'It starts agentd as an independent process that survives hostd restarts (a restarted hostd',
    'adopts it) and restarts agentd when it crashes.',
    'Installed from a host bundle and run by PREFIX/bin/hostd-launch, it updates itself and agentd when',
    'a rollout sends a release signed by a key in update.trustedKeys: download, SHA-256, unpack beside',
    'the running version, swap PREFIX/current, restart, health window, then commit or revert by',
    'itself. PREFIX/update.state records each step, so a restart anywhere resumes or reverts.',
    'Configuration: flags > OPS_* environment > YAML file (--config) > defaults.',
  ].join('\n'),
  flags: [
    common('config'),
    common('log-level'),
    { name: 'manager', configKey: 'manager.address', type: 'string', valueName: 'HOST:PORT', description: "the manager's host-link (gRPC) address" },
    { name: 'token', configKey: 'enroll.token', type: 'string', valueName: 'TOKEN', description: 'one-time enrollment token, first start only (prefer $OPS_ENROLL_TOKEN: arguments show in ps)' },
    { name: 'ca-file', configKey: 'manager.caFile', type: 'string', valueName: 'FILE', description: "the manager's CA certificate (PEM) to trust when enrolling" },
    { name: 'ca-hash', configKey: 'manager.caHash', type: 'string', valueName: 'SHA256HEX', description: "trust the manager's CA whose certificate has this SHA-256 (hex of the DER)" },
    { name: 'name', configKey: 'node.name', type: 'string', valueName: 'NAME', description: 'node name to enroll as (default: this host name)' },
    { name: 'data-dir', configKey: 'dataDir', type: 'string', valueName: 'DIR', description: 'identity, agent keys, socket and agentd log (default ./data/hostd)' },
    { name: 'agent-listen', configKey: 'agent.listen', type: 'string', valueName: 'HOST:PORT', description: "agentd's HTTP address (default 127.0.0.1:8442)" },
    common('help'),
    common('version'),
  ],
  examples: [
    'OPS_ENROLL_TOKEN=8J2k… hostd --manager manager.example.com:8441 --ca-hash 3f1c…e9',
    'hostd --config /etc/opsctl/hostd.yaml',
    'OPS_ENROLL_TOKEN=8J2k… hostd --manager 10.0.0.2:8441 --ca-file /etc/opsctl/manager-ca.pem --data-dir /var/lib/opsctl/hostd',
  ],
  files: [
    { path: '/etc/opsctl/hostd.yaml', description: 'configuration (see configs/hostd.yaml for every option)' },
    { path: 'DATA-DIR/node.key, node.crt, ca.crt, node.json', description: 'the identity issued at enrollment (node.key is mode 0600), renewed in place' },
    { path: 'DATA-DIR/enroll.key', description: 'the key of an enrollment request waiting for approval (mode 0600), removed once enrolled' },
    { path: 'DATA-DIR/agent-keys.json', description: "agentd's request-signing keys, key id \"hostd\", mode 0600" },
    { path: 'DATA-DIR/hostd.sock', description: 'JSON-RPC socket agentd reports to, mode 0600' },
    { path: 'DATA-DIR/agentd.pid, agentd.log', description: "agentd's process id and output" },
    { path: 'PREFIX/versions/VERSION, PREFIX/current', description: 'installed bundles and the link to the running one (install script; updates swap the link)' },
    { path: 'PREFIX/bin/hostd-launch', description: 'the launcher systemd runs: starts current/hostd.mjs and reverts a new version that cannot stay up (--loop without systemd)' },
    { path: 'PREFIX/update.state, update.starts, update.request.json, update.report.json, downloads/', description: 'the update marker (key=value), the launcher\'s start count, the update being installed, its last report, the download' },
  ],
};
