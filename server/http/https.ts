// TLS for the REST API. With http.tls auto the API is HTTPS as soon as it listens beyond loopback
// (a bearer token or password must not cross a network in clear). The certificate is the
// operator's (http.tlsCert + http.tlsKey) or issued by the manager's own CA — the host link's,
// so one fingerprint names the manager for opsctl login and hostd alike — for every name a client
// may dial.
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { AllowList, LOOPBACK } from '../../lib/cidr.js';
import { ConfigError } from '../../lib/config.js';
import { hostOnly } from '../../lib/host-port.js';
import { caFingerprint } from '../../proto/ca-fingerprint.js';
import type { ManagerConfig } from '../config.js';
import { loadOrCreateCa, loadOrIssueServerPair } from '../hostlink/pki.js';

export interface HttpsMaterial {
  /** PEM: the key, and the chain the listener presents (leaf first). */
  key: string;
  cert: string;
  /** 'the manager CA' or the tlsCert path, for the start-up log. */
  source: string;
  /**
   * SHA256:hex of the chain's last certificate when it is a CA that signed itself — what
   * `opsctl login` pins; undefined when the chain stops below its root (clients must trust it already).
   */
  caFingerprint?: string;
  /** curl's --pinnedpubkey value for the serving certificate (spkiPin). */
  spkiPin: string;
}

const loopback = AllowList.parse(LOOPBACK, 'loopback');

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || loopback.allows(host);
}

/** Whether the REST listener serves HTTPS under this configuration. */
export function httpsEnabled(http: ManagerConfig['http']): boolean {
  if (http.tls === 'auto') return http.tlsCert !== '' || !isLoopbackHost(http.host);
  return http.tls === 'on';
}

/**
 * curl's `--pinnedpubkey` value for a certificate: `sha256//` and the base64 sha256 of its
 * SubjectPublicKeyInfo DER. Kept across reissues of the manager's own certificate (its key stays).
 */
export function spkiPin(certPem: string): string {
  const der = createPublicKey(certPem).export({ type: 'spki', format: 'der' });
  return `sha256//${createHash('sha256').update(der).digest('base64')}`;
}

/** The key and chain the REST listener serves, or undefined for plain HTTP. Throws ConfigError naming the option. */
export function loadHttpsMaterial(config: ManagerConfig): HttpsMaterial | undefined {
  const http = config.http;
  if (!httpsEnabled(http)) return undefined;
  if (http.tlsCert !== '') return operatorMaterial(http.tlsCert, http.tlsKey);
  const pkiDir = join(config.dataDir, 'pki');
  const issuer = loadOrCreateCa(pkiDir);
  const pair = loadOrIssueServerPair(pkiDir, 'https', issuer, restHostNames(config), 'opsctl manager REST API');
  return {
    key: pair.keyPem,
    cert: pair.certPem.trimEnd() + '\n' + issuer.caCertPem.trimEnd() + '\n',
    source: 'the manager CA',
    caFingerprint: caFingerprint(new X509Certificate(issuer.caCertPem).raw),
    spkiPin: spkiPin(pair.certPem),
  };
}

/**
 * Every name a client may dial: the listen address (or, on a wildcard, this machine's addresses),
 * the host name, loopback, the gRPC advertise host and http.tlsAltNames. The certificate is reissued
 * (by the same CA, so pins hold) when one is missing, e.g. after a new address.
 */
export function restHostNames(config: ManagerConfig): string[] {
  const listen = config.http.host;
  const wildcard = listen === '0.0.0.0' || listen === '::';
  const machine = wildcard
    ? Object.values(networkInterfaces()).flat().filter((i) => i && !i.internal && !i.address.startsWith('fe80:')).map((i) => i!.address)
    : [listen];
  return [...new Set(['localhost', '127.0.0.1', '::1', hostname(), hostOnly(config.grpc.advertise), ...machine, ...config.http.tlsAltNames].filter(Boolean))];
}

function readPem(file: string, option: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`config ${option}: cannot read the ${what} ${file}: ${(err as Error).message}`);
  }
}

function operatorMaterial(tlsCert: string, tlsKey: string): HttpsMaterial {
  const certText = readPem(tlsCert, 'http.tlsCert', 'certificate');
  const keyText = readPem(tlsKey, 'http.tlsKey', 'private key');
  const blocks = certText.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  let chain: X509Certificate[];
  try {
    chain = blocks.map((b) => new X509Certificate(b));
  } catch (err) {
    throw new ConfigError(`config http.tlsCert: ${tlsCert} holds a certificate that does not parse: ${(err as Error).message}`);
  }
  if (chain.length === 0) throw new ConfigError(`config http.tlsCert: ${tlsCert} holds no PEM certificate`);
  let key;
  try {
    key = createPrivateKey(keyText);
  } catch (err) {
    throw new ConfigError(`config http.tlsKey: ${tlsKey} is not a PEM private key: ${(err as Error).message}`);
  }
  if (!chain[0].checkPrivateKey(key)) {
    throw new ConfigError(`config http.tlsKey: ${tlsKey} is not the key of the first certificate in ${tlsCert}`);
  }
  const top = chain[chain.length - 1];
  const selfSigned = top.checkIssued(top) && top.verify(top.publicKey);
  return {
    key: keyText,
    cert: blocks.join('\n') + '\n',
    source: tlsCert,
    caFingerprint: selfSigned ? caFingerprint(top.raw) : undefined,
    spkiPin: spkiPin(blocks[0]!),
  };
}

/** The address a client on this machine uses for a listener bound to `host:port`. */
export function listenerUrl(https: boolean, host: string, port: number): string {
  const dial = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `${https ? 'https' : 'http'}://${isIP(dial) === 6 ? `[${dial}]` : dial}:${port}`;
}
