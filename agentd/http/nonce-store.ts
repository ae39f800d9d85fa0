// The nonce cache, kept on disk so that a signed request captured and replayed after agentd
// restarts is still refused as a replay (in memory only, a restart forgot every nonce and the
// script ran twice).
//
// Why persist nonces rather than refuse every timestamp older than this process's start: the
// timestamp is in whole seconds and comes from the signer's clock, which in direct mode is opsctl
// on another machine and may be up to the window (300 s) off. A start-time cutoff would refuse such
// an honest signer for up to 300 s after every restart, and at one-second resolution it would
// either refuse requests signed in agentd's first second or accept ones captured in it. Persisted
// nonces keep exactly the rule of a running agentd across restarts, with no new clock assumption.
//
// Format: one JSON line `["<nonce>", <expiresAtMs>]` per accepted request, appended before the
// request goes on, so a crash right after cannot lose it (the kernel keeps what a dead process
// wrote; only a power cut within the window could). Expired lines are dropped by rewriting the file
// atomically (0600) at start and whenever as many lines were appended as were live.
import { appendFileSync, readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../../lib/atomic-write.js';
import { DEFAULT_WINDOW_SECONDS, NonceCache } from '../../proto/signing.js';

const FILE_MODE = 0o600;
const MIN_APPENDS_BEFORE_COMPACTING = 1000;

export class PersistentNonceCache extends NonceCache {
  private readonly expiries = new Map<string, number>();
  private opened = false;
  private appended = 0;

  /** `ttlMs` as NonceCache's: a nonce is kept as long as its timestamp could pass the window. */
  constructor(private readonly path: string, private readonly ttl = 2 * DEFAULT_WINDOW_SECONDS * 1000) {
    super(ttl);
  }

  /** Loads the nonces still inside the window; throws when the file cannot be read or rewritten. */
  open(nowMs = Date.now()): void {
    if (this.opened) return;
    let text = '';
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw this.failure('reading', err);
    }
    for (const line of text.split('\n')) {
      try {
        const [nonce, expires] = JSON.parse(line) as [unknown, unknown];
        if (typeof nonce === 'string' && typeof expires === 'number') this.expiries.set(nonce, Math.max(expires, this.expiries.get(nonce) ?? 0));
      } catch {
        // an empty line, or the last one cut short by a crash mid-append
      }
    }
    this.compact(nowMs);
    this.opened = true;
  }

  override checkAndRemember(nonce: string, nowMs = Date.now()): boolean {
    this.open(nowMs);
    const expires = this.expiries.get(nonce);
    if (expires !== undefined && expires > nowMs) return false;
    try {
      appendFileSync(this.path, JSON.stringify([nonce, nowMs + this.ttl]) + '\n', { mode: FILE_MODE });
    } catch (err) {
      // Refuse rather than run a request a restart could let through again.
      throw this.failure('appending to', err);
    }
    this.expiries.set(nonce, nowMs + this.ttl);
    if (++this.appended >= Math.max(MIN_APPENDS_BEFORE_COMPACTING, this.expiries.size)) {
      try {
        this.compact(nowMs);
      } catch {
        // The nonce is on disk already; the file is only longer than it needs to be. Next time.
      }
    }
    return true;
  }

  override get size(): number { return this.expiries.size; }

  private compact(nowMs: number): void {
    for (const [nonce, expires] of this.expiries) if (expires <= nowMs) this.expiries.delete(nonce);
    const text = [...this.expiries].map((entry) => JSON.stringify(entry) + '\n').join('');
    try {
      writeFileAtomicSync(this.path, text, FILE_MODE);
    } catch (err) {
      throw this.failure('rewriting', err);
    }
    this.appended = 0;
  }

  private failure(doing: string, err: unknown): Error {
    return new Error(`${doing} the nonce file ${this.path} (replay protection): ${(err as Error).message}`, { cause: err });
  }
}
