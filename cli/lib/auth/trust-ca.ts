// Which CA `opsctl login` trusts for an HTTPS manager, ssh-style: the one pinned in known_cas, or —
// on first use — the one the manager presents, once a person (on a terminal) or a flag
// (--ca-fingerprint, or --accept-new-ca for ssh's "accept-new") has accepted it. A manager
// presenting another CA than the pinned one is refused unless --forget-ca says the change is expected.
import { normaliseCaFingerprint } from '../../../proto/ca-fingerprint.js';
import { CliError, UsageError } from '../errors.js';
import { CaChangedError, findPinnedCa, knownCasPath, pinnedCaOf, type PinnedCa } from '../known-cas.js';
import { ask } from '../prompt.js';
import { presentedCa } from '../server-ca.js';

export interface TrustOptions {
  /** --ca-fingerprint: the CA the operator expects (any form normaliseCaFingerprint reads). */
  fingerprint?: string;
  /** --accept-new-ca: trust the CA presented on first use without checking it. */
  acceptNew: boolean;
  /** --forget-ca: ignore the pinned CA; the new one replaces it once the login succeeds. */
  forget: boolean;
  /** A person can be asked on the terminal. */
  prompt: boolean;
  note(text: string): void;
}

export interface Trust {
  /** The CA to verify the manager against (undefined: the system's CAs). */
  ca?: PinnedCa;
  /** The CA to pin once the login succeeds (first use, or a CA replaced with --forget-ca). */
  pinNew?: Buffer;
}

const WHERE_TO_CHECK = 'compare it with the fingerprint the manager logged at start ("REST API serves HTTPS", or `opsctl server`\'s output), ' +
  'or on the manager host: openssl x509 -noout -fingerprint -sha256 -in <dataDir>/pki/ca.crt';

export async function trustServerCa(server: string, opts: TrustOptions): Promise<Trust> {
  const expected = opts.fingerprint === undefined ? undefined : normaliseCaFingerprint(opts.fingerprint);
  if (opts.fingerprint !== undefined && !expected) {
    throw new UsageError(`--ca-fingerprint: "${opts.fingerprint}" is not a SHA-256 fingerprint (SHA256: and 64 hex digits, colons allowed)`);
  }
  const pinned = opts.forget ? undefined : await findPinnedCa(server);
  const presented = await presentedCa(server);

  if (pinned) {
    if (presented.fingerprint !== pinned.fingerprint) {
      throw new CaChangedError(server, pinned.fingerprint, presented.fingerprint ?? 'none (the manager sent no CA certificate)');
    }
    if (expected && expected !== pinned.fingerprint) {
      throw new CliError(`the manager at ${server} presents CA ${pinned.fingerprint} (pinned in ${knownCasPath()}), not ${expected} given with --ca-fingerprint`);
    }
    return { ca: pinned };
  }

  if (!presented.der || !presented.fingerprint) {
    if (presented.systemTrusted && !expected) return {};
    throw new CliError(`the manager at ${server} sent no CA certificate to pin (its chain does not end in a self-signed CA): ` +
      'append the CA certificate to the file of http.tlsCert on the manager');
  }
  const accept: Trust = { ca: pinnedCaOf(server, presented.der), pinNew: presented.der };
  if (expected) {
    if (expected !== presented.fingerprint) {
      throw new CliError(`the manager at ${server} presents CA ${presented.fingerprint}, not ${expected} given with --ca-fingerprint: refusing to connect; nothing was saved`);
    }
    return accept;
  }
  const shown = `The manager at ${server} presents a certificate from a CA opsctl does not know yet:\n` +
    `  ${presented.subject}\n  ${presented.fingerprint}`;
  if (opts.acceptNew) {
    opts.note(`${shown}\nTrusting it (--accept-new-ca); it will be pinned in ${knownCasPath()}.`);
    return accept;
  }
  if (!opts.prompt) {
    throw new UsageError(`the manager at ${server} presents CA ${presented.fingerprint}, which is not pinned yet, and there is no terminal to confirm it: ` +
      `${WHERE_TO_CHECK}; then pass --ca-fingerprint ${presented.fingerprint} (or --accept-new-ca to trust it unchecked)`);
  }
  opts.note(`${shown}\nBefore trusting it, ${WHERE_TO_CHECK}.`);
  const answer = await ask('Trust this CA for this manager? [y/N]');
  if (!/^y(es)?$/i.test(answer)) throw new CliError('the manager\'s CA was not trusted; nothing was saved');
  return accept;
}
