// node:tls for hostd, through require rather than `import`. An ES module's import of a built-in makes
// Node build the module's namespace from every export, and `tls.rootCertificates` is a getter that
// parses Node's ~140 bundled root certificates into strings: 0.8 MB of private memory hostd would
// keep for its whole life and never use (it trusts only the manager's CA). require reads no getter.
import { createRequire } from 'node:module';

export const nodeTls = createRequire(import.meta.url)('node:tls') as typeof import('node:tls');
