// agentd's command line, declared once: agentd parses it (agentd/cli-spec.ts builds --help and the
// man page from these flags) and hostd builds the command line of the agentd it starts from it
// (agentdArgs). A flag renamed here changes both sides, and TypeScript refuses a launch option
// that names no declared flag.
import { COMMON_FLAGS, type DaemonFlag } from '../lib/daemon-cli.js';

/** A flag every daemon has, with its name kept as a literal type. */
function common<N extends string>(name: N): DaemonFlag & { name: N } {
  const flag = COMMON_FLAGS.find((f) => f.name === name);
  if (!flag) throw new Error(`no common daemon flag --${name}`);
  return { ...flag, name };
}

/** Every agentd flag, in the order --help and the man page list them. */
export const AGENTD_FLAGS = [
  common('config'),
  common('log-level'),
  { name: 'listen', configKey: 'http.listen', type: 'string', valueName: 'HOST:PORT', description: 'address of the HTTP API (default 127.0.0.1:8442)' },
  { name: 'keys-file', configKey: 'auth.keysFile', type: 'string', valueName: 'FILE', description: 'JSON file of request-signing keys, mode 0600 (required)' },
  { name: 'hostd-socket', configKey: 'hostd.socket', type: 'string', valueName: 'PATH', description: "hostd's JSON-RPC Unix socket; empty runs standalone" },
  { name: 'pid-file', configKey: 'pidFile', type: 'string', valueName: 'FILE', description: 'write the process id here; removed at exit' },
  { name: 'max-concurrent', configKey: 'tasks.maxConcurrent', type: 'string', valueName: 'N', description: 'scripts run at once; the rest wait in order (default 10)' },
  { name: 'plugins-dir', configKey: 'plugins.dir', type: 'string', valueName: 'DIR', description: 'load executor plugins from the folders in DIR (default: none)' },
  { name: 'allow', configKey: 'http.allow', type: 'string', valueName: 'CIDRS', description: 'comma list of client networks allowed (default 127.0.0.1/32,::1/128)' },
  { name: 'file-roots', configKey: 'files.roots', type: 'string', valueName: 'DIRS', description: 'comma list of the folders file tasks may touch (default <state dir>/files)' },
  common('help'),
  common('version'),
] as const satisfies readonly DaemonFlag[];

/** What hostd tells the agentd it starts. */
export interface AgentdLaunch {
  /** HOST:PORT of the HTTP API. */
  listen: string;
  keysFile: string;
  hostdSocket: string;
  pidFile: string;
  maxConcurrent: number;
  logLevel: string;
}

type AgentdFlagName = (typeof AGENTD_FLAGS)[number]['name'];

const LAUNCH_FLAGS: Record<keyof AgentdLaunch, AgentdFlagName> = {
  listen: 'listen',
  keysFile: 'keys-file',
  hostdSocket: 'hostd-socket',
  pidFile: 'pid-file',
  maxConcurrent: 'max-concurrent',
  logLevel: 'log-level',
};

/** agentd's arguments for `launch`, e.g. `--listen 127.0.0.1:8442 --keys-file … --log-level info`. */
export function agentdArgs(launch: AgentdLaunch): string[] {
  return (Object.keys(LAUNCH_FLAGS) as (keyof AgentdLaunch)[]).flatMap((key) => [`--${LAUNCH_FLAGS[key]}`, String(launch[key])]);
}
