// HOST:PORT addresses in configuration (where to listen, what to dial): `host:port`, `1.2.3.4:port`
// or `[v6]:port`. A bare IPv6 address with a port (`::1:80`) is refused: which colon starts the port
// cannot be told. Errors name the option, so a bad value fails start-up with a message that says
// where to look.
import { isIP } from 'node:net';
import { ConfigError } from './config.js';

export interface HostPort { host: string; port: number }

export interface HostPortRules {
  /** Accept port 0, "any free port" (an address to listen on, a port learnt later). */
  anyPort?: boolean;
  /** Accept an empty host (`:8442`) and use this one instead, e.g. `0.0.0.0` for all interfaces. */
  emptyHost?: string;
}

const HOST_PORT = /^(?:\[([^\]]*)\]|([^\s:[\]]*)):(\d{1,5})$/;

/** `host:port`, `[v6]:port` → host (without brackets) and port; `option` names the setting in the error. */
export function parseHostPort(value: string, option: string, rules: HostPortRules = {}): HostPort {
  const minPort = rules.anyPort ? 0 : 1;
  const m = HOST_PORT.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  let host = m ? (m[1] ?? m[2]) : '';
  const bracketsHoldIpv6 = m?.[1] === undefined || isIP(m[1]) === 6;
  if (m && host === '' && m[1] === undefined && rules.emptyHost !== undefined) host = rules.emptyHost;
  if (!m || host === '' || !bracketsHoldIpv6 || port < minPort || port > 65535) {
    throw new ConfigError(
      `${option} must be HOST:PORT or [IPV6]:PORT with a port from ${minPort} to 65535 (e.g. 127.0.0.1:8442), got "${value}"`,
    );
  }
  return { host, port };
}

/** The inverse of parseHostPort: IPv6 addresses get their brackets back. */
export function formatHostPort({ host, port }: HostPort): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * The host of an address that may or may not carry a port: `m.example:8441` → `m.example`,
 * `[::1]:8441` and `::1` → `::1`, `10.0.0.1` → `10.0.0.1`. For names, not for validation.
 */
export function hostOnly(address: string): string {
  const a = address.trim();
  if (!a) return '';
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracketed) return bracketed[1];
  if (isIP(a) === 6) return a;
  return a.replace(/:\d+$/, '');
}
