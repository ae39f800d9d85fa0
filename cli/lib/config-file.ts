// opsctl's own settings: ~/.config/opsctl/config.yaml (or $XDG_CONFIG_HOME/opsctl/config.yaml)
// holding `server`, `token` and `user`. It holds a bearer token, so the directory is 0700 and the
// file 0600, written to a temporary name and renamed so a crash never leaves half a file.
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError, UsageError } from './errors.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:8440';

export interface CliConfig {
  server?: string;
  token?: string;
  user?: string;
}

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'opsctl');
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), 'config.yaml');
}

export async function readCliConfig(env: NodeJS.ProcessEnv = process.env): Promise<CliConfig> {
  const file = configPath(env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`reading ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown = parseFlatMapping(text);
  if (parsed === undefined) {
    // Anything beyond `key: plain-value` lines goes to the real YAML parser (~20 ms to load).
    const { parse } = await import('yaml');
    try {
      parsed = parse(text);
    } catch (err) {
      throw new CliError(`parsing ${file}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new CliError(`${file} must hold a mapping (server, token, user)`);
  const out: CliConfig = {};
  for (const key of ['server', 'token', 'user'] as const) {
    const value = (parsed as Record<string, unknown>)[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw new CliError(`${file}: "${key}" must be a string`);
    out[key] = value;
  }
  return out;
}

const PLAIN_LINE = /^([a-z]+):[ \t]+([A-Za-z0-9._~:/?&=%+@-]+)[ \t]*$/;

/**
 * The file as `opsctl login` writes it (comments and `key: value` lines with plain values) is read
 * without loading the YAML library, which is most of the start-up time of `opsctl nodes ls` after
 * oclif itself. Returns undefined for anything else, which the YAML parser then handles.
 */
export function parseFlatMapping(text: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const m = PLAIN_LINE.exec(line);
    if (!m || m[2].startsWith('-') || Object.hasOwn(out, m[1])) return undefined;
    out[m[1]] = m[2];
  }
  return out;
}

export async function writeCliConfig(config: CliConfig, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const dir = configDir(env);
  const file = configPath(env);
  // Loaded here, as yaml is: atomic-write loads node:crypto, which only login and logout need.
  const [{ stringify }, { writeFileAtomic }] = await Promise.all([import('yaml'), import('../../lib/atomic-write.js')]);
  const text = '# opsctl settings, written by `opsctl login`. Holds a bearer token: keep it private.\n' + stringify(config);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    await writeFileAtomic(file, text, 0o600);
  } catch (err) {
    throw new CliError(`writing ${file}: ${(err as Error).message}`);
  }
  return file;
}

/** Checks and normalises a manager URL: http(s), no trailing slash, no path. */
export function normaliseServer(input: string, from: string): string {
  let url: URL;
  try {
    url = new URL(input.includes('://') ? input : `http://${input}`);
  } catch {
    throw new UsageError(`invalid manager address "${input}" (from ${from}): use http://host:port`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`invalid manager address "${input}" (from ${from}): only http:// and https:// are supported`);
  }
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

export interface Connection {
  server: string;
  token?: string;
  user?: string;
}

/** --server flag > $OPSCTL_SERVER / $OPSCTL_TOKEN > config file > the default address. */
export async function resolveConnection(serverFlag: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  const file = await readCliConfig(env);
  let server = DEFAULT_SERVER;
  let from = 'the default';
  if (file.server) { server = file.server; from = configPath(env); }
  if (env.OPSCTL_SERVER) { server = env.OPSCTL_SERVER; from = '$OPSCTL_SERVER'; }
  if (serverFlag) { server = serverFlag; from = '--server'; }
  const token = env.OPSCTL_TOKEN || file.token || undefined;
  return { server: normaliseServer(server, from), token, user: file.user };
}
