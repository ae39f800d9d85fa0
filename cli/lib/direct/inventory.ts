// The inventory of direct mode (`opsctl --inventory hosts.yaml ...`): the hosts opsctl talks to
// without a manager, each with its agentd URL, the key that signs requests to it, and the labels
// and groups selectors match. Everything is checked before anything is sent, and every message
// names the file, the host and the field. Key files are held to the rules agentd applies to its
// own keys file (proto/agent-keys-file.ts): private to their owner, a secret of 32 characters or more.
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { MIN_SECRET_CHARS } from '../../../proto/agent-keys-file.js';
import type { SelectableNode } from '../../../proto/selector.js';
import { UsageError } from '../errors.js';

export interface InventoryHost extends SelectableNode {
  /** agentd's base URL, without a trailing slash: http://10.0.0.5:8442. */
  url: string;
  keyId: string;
  /** The HMAC secret, as the key file holds it (without a trailing newline). */
  secret: string;
  keyFile: string;
  /** PEM of the CA that signed an https agentd's certificate; undefined: the system's CAs. */
  ca?: Buffer;
}

export interface Inventory {
  file: string;
  hosts: InventoryHost[];
}

/** Node-name rules, as the manager applies them to enrolling hosts. */
const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;
/** Label keys a selector can name (proto/selector.ts). */
const LABEL_KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^[A-Za-z0-9._-]*$/;
/** Sent in a header: printable, no spaces. */
const KEY_ID = /^[\x21-\x7e]{1,128}$/;
const HOST_FIELDS = ['name', 'url', 'keyId', 'keyFile', 'labels', 'groups', 'caFile'] as const;
type HostField = (typeof HOST_FIELDS)[number];
type RawHost = Partial<Record<HostField, unknown>>;

class InventoryError extends UsageError {}

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads, checks and resolves the inventory; throws a UsageError (exit 2) saying what is wrong. */
export async function loadInventory(file: string): Promise<Inventory> {
  const fail = (where: string, message: string): never => { throw new InventoryError(`inventory ${file}: ${where}${where ? ': ' : ''}${message}`); };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail('', code === 'ENOENT' ? 'no such file' : (err as Error).message);
  }
  const { parse } = await import('yaml');
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    return fail('', `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isMapping(doc)) return fail('', 'must be a mapping with a `hosts` list (and optional `defaults`)');
  for (const key of Object.keys(doc)) if (key !== 'hosts' && key !== 'defaults') fail(key, 'unknown field (allowed: defaults, hosts)');

  const defaults: RawHost = {};
  if (doc.defaults !== undefined && doc.defaults !== null) {
    if (!isMapping(doc.defaults)) fail('defaults', 'must be a mapping of host fields');
    for (const [key, value] of Object.entries(doc.defaults as Record<string, unknown>)) {
      if (key === 'name') fail('defaults', 'name cannot have a default: every host has its own');
      if (!(HOST_FIELDS as readonly string[]).includes(key)) fail(`defaults.${key}`, `unknown field (allowed: ${HOST_FIELDS.filter((f) => f !== 'name').join(', ')})`);
      defaults[key as HostField] = value;
    }
  }
  if (!Array.isArray(doc.hosts) || doc.hosts.length === 0) return fail('hosts', 'must be a list of at least one host');

  const base = dirname(resolve(file));
  const secrets = new Map<string, Promise<string>>();
  const hosts: InventoryHost[] = [];
  const seen = new Map<string, number>();
  for (const [i, raw] of (doc.hosts as unknown[]).entries()) {
    const name = isMapping(raw) && typeof raw.name === 'string' ? raw.name : undefined;
    const where = `hosts[${i}]${name ? ` (${name})` : ''}`;
    const bad = (field: string, message: string): never => fail(where, `${field} ${message}`);
    if (!isMapping(raw)) return fail(where, 'must be a mapping (name, url, keyId, keyFile, labels, groups, caFile)');
    for (const key of Object.keys(raw)) if (!(HOST_FIELDS as readonly string[]).includes(key)) bad(key, `is not a host field (allowed: ${HOST_FIELDS.join(', ')})`);
    const host: RawHost = { ...defaults, ...raw };

    if (typeof host.name !== 'string' || host.name === '') return bad('name', 'is required');
    if (!HOST_NAME.test(host.name)) bad('name', 'must start with a letter or digit and hold only letters, digits, ".", "_" and "-" (at most 253)');
    const first = seen.get(host.name);
    if (first !== undefined) fail(where, `name "${host.name}" is already used by hosts[${first}]`);
    seen.set(host.name, i);

    const url = checkUrl(host.url, bad);
    if (host.keyId === undefined) bad('keyId', 'is required (here or in defaults): a key id of agentd\'s keys file');
    if (typeof host.keyId !== 'string' || !KEY_ID.test(host.keyId)) bad('keyId', 'must be text without spaces (a key id of agentd\'s keys file)');
    const keyFile = pathField(host.keyFile, 'keyFile', base, bad, 'a file holding the signing secret');
    if (!secrets.has(keyFile)) secrets.set(keyFile, readSecret(keyFile));
    const secret = await secrets.get(keyFile)!.catch((err: Error) => bad('keyFile', err.message));

    let ca: Buffer | undefined;
    if (host.caFile !== undefined) {
      if (!url.startsWith('https://')) bad('caFile', 'is only for an https:// url');
      const caFile = pathField(host.caFile, 'caFile', base, bad, 'a PEM file of the CA that signed agentd\'s certificate');
      ca = await readFile(caFile).catch((err: NodeJS.ErrnoException) => bad('caFile', `${caFile}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`));
    }
    hosts.push({
      name: host.name, url, keyId: host.keyId as string, keyFile, secret, ca,
      labels: checkLabels(host.labels, bad), groups: checkGroups(host.groups, bad),
    });
  }
  return { file, hosts };
}

function checkUrl(value: unknown, bad: (field: string, message: string) => never): string {
  const rule = 'must be agentd\'s address, http://HOST:PORT or https://HOST:PORT';
  if (value === undefined) bad('url', `is required: ${rule.replace('must be ', '')}`);
  if (typeof value !== 'string') return bad('url', rule);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return bad('url', `"${value}" ${rule}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') bad('url', `"${value}" ${rule}`);
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    bad('url', `"${value}" ${rule}, without a path, query or user`);
  }
  return url.origin;
}

/** A path field: `~/` is the home folder, a relative path is relative to the inventory file. */
function pathField(value: unknown, field: string, base: string, bad: (field: string, message: string) => never, what: string): string {
  if (typeof value !== 'string' || value === '') return bad(field, `is required (here or in defaults): ${what}`);
  if (value === '~' || value.startsWith('~/')) return join(homedir(), value.slice(2));
  return isAbsolute(value) ? value : resolve(base, value);
}

/** The secret of a key file, held to agentd's own rules for its keys file. */
async function readSecret(path: string): Promise<string> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    throw new Error(`${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  if (!st.isFile()) throw new Error(`${path} is not a regular file`);
  if ((st.mode & 0o077) !== 0) {
    throw new Error(`${path} has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}: it must not be readable by group or others (run: chmod 600 ${path})`);
  }
  // `echo SECRET > file` adds a newline that is no part of the secret.
  const secret = (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
  if (secret === '') throw new Error(`${path} is empty: put the secret of the key id in it`);
  if (secret.length < MIN_SECRET_CHARS || /\s/.test(secret)) {
    throw new Error(`${path} must hold one secret of at least ${MIN_SECRET_CHARS} characters without spaces (as in agentd's keys file)`);
  }
  return secret;
}

function checkLabels(value: unknown, bad: (field: string, message: string) => never): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isMapping(value)) return bad('labels', 'must be a mapping of label names to values, e.g. { env: prod }');
  const labels: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!LABEL_KEY.test(key)) bad(`labels.${key}`, 'is not a valid label name (letters, digits, ".", "_", "/", "-")');
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') bad(`labels.${key}`, 'must be a single value');
    const text = String(v);
    if (!LABEL_VALUE.test(text)) bad(`labels.${key}`, `"${text}" is not a valid label value (letters, digits, ".", "_", "-")`);
    labels[key] = text;
  }
  return labels;
}

function checkGroups(value: unknown, bad: (field: string, message: string) => never): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((g) => typeof g !== 'string' || g === '')) return bad('groups', 'must be a list of group names, e.g. [web, prod]');
  return value as string[];
}
