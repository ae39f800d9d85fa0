// Command lines of the daemons (hostd, agentd). Each daemon declares its flags once, as data;
// parsing, --help and the man page (scripts/gen-man.ts) all come from that declaration.
import { parseArgs } from 'node:util';

export interface DaemonFlag {
  name: string;
  /** Dotted config key the flag sets; flags without one are read by the daemon itself. */
  configKey?: string;
  type: 'string' | 'boolean';
  description: string;
  valueName?: string;
}

export interface DaemonSpec {
  name: string;
  summary: string;
  description: string;
  flags: DaemonFlag[];
  examples: string[];
  files: { path: string; description: string }[];
}

export const COMMON_FLAGS: DaemonFlag[] = [
  { name: 'config', type: 'string', valueName: 'FILE', description: 'YAML configuration file' },
  { name: 'log-level', configKey: 'log.level', type: 'string', valueName: 'LEVEL', description: 'fatal, error, warn, info, debug or trace' },
  { name: 'help', type: 'boolean', description: 'show this help and exit' },
  { name: 'version', type: 'boolean', description: 'print the version and exit' },
];

export class UsageError extends Error {
  constructor(message: string) { super(message); this.name = 'UsageError'; }
}

export interface ParsedDaemonArgs {
  values: Record<string, string | boolean | undefined>;
  /** Flag values keyed by config key, ready for loadConfig({flags}). */
  configFlags: Record<string, unknown>;
}

export function parseDaemonArgs(spec: DaemonSpec, argv: string[]): ParsedDaemonArgs {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const f of spec.flags) options[f.name] = { type: f.type };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\nRun '${spec.name} --help' for usage.`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const configFlags: Record<string, unknown> = {};
  for (const f of spec.flags) if (f.configKey && values[f.name] !== undefined) configFlags[f.configKey] = values[f.name];
  return { values, configFlags };
}

export function daemonHelp(spec: DaemonSpec): string {
  const width = Math.max(...spec.flags.map((f) => f.name.length + (f.valueName ? f.valueName.length + 1 : 0))) + 4;
  const lines = [
    `${spec.name} — ${spec.summary}`, '', `USAGE`, `  ${spec.name} [FLAGS]`, '', 'DESCRIPTION',
    ...spec.description.split('\n').map((l) => `  ${l}`), '', 'FLAGS',
  ];
  for (const f of spec.flags) {
    const left = `--${f.name}${f.valueName ? ` ${f.valueName}` : ''}`;
    lines.push(`  ${left.padEnd(width)}${f.description}`);
  }
  lines.push('', 'EXAMPLES', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}
