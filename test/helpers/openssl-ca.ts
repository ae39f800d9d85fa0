// An operator's own CA and server certificate, made by the openssl command (not by our x509 code),
// for tests of http.certFile / http.keyFile.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface OperatorCert {
  caCert: string;
  /** The server certificate followed by the CA (what http.certFile holds). */
  chain: string;
  key: string;
  /** The server certificate alone. */
  leaf: string;
}

export function makeOperatorCert(dir: string, names = ['localhost', '127.0.0.1']): OperatorCert {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt',
    '-days', '30', '-subj', '/CN=Operator Test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=manager.test');
  const sans = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=${sans}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '30', '-extfile', 'ext.cnf', '-out', 'server.crt');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  const chain = read('server.crt') + read('ca.crt');
  writeFileSync(join(dir, 'chain.crt'), chain);
  return { caCert: join(dir, 'ca.crt'), chain: join(dir, 'chain.crt'), key: join(dir, 'server.key'), leaf: join(dir, 'server.crt') };
}
