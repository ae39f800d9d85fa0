// Where agentd keeps what must outlive the process: the nonces of requests it accepted (replay
// protection across restarts) and the runs it has running (so a successor can end them if agentd
// is killed). That is `stateDir`, or by default the folder of its keys file: the one path it is
// always given, private to it, and under hostd that is hostd's data dir, beside agentd.pid and
// agentd.log. (Not /run: a reboot empties it, and a reboot can be quicker than the 300 s a
// captured request stays valid.)
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from '../lib/log.js';
import { RunLedger } from './exec/run-ledger.js';
import { PersistentNonceCache } from './http/nonce-store.js';

export interface StateLocation { stateDir: string; auth: { keysFile: string } }

export function agentdStateDir(cfg: StateLocation): string {
  return resolve(cfg.stateDir || dirname(resolve(cfg.auth.keysFile)));
}

/** The state folder, created private (0700) when stateDir names one that does not exist yet. */
function ensureStateDir(cfg: StateLocation): string {
  const dir = agentdStateDir(cfg);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Opened (and checked) when the HTTP API starts, so a folder agentd cannot write stops it there. */
export function openNonceStore(cfg: StateLocation): PersistentNonceCache {
  return new PersistentNonceCache(join(ensureStateDir(cfg), 'agentd-nonces.jsonl'));
}

/** The folders file tasks may touch: files.roots, or by default <stateDir>/files (created 0700). */
export function fileRoots(cfg: StateLocation & { files: { roots: string[] } }): string[] {
  if (cfg.files.roots.length > 0) return cfg.files.roots.map((r) => resolve(r));
  const dir = join(ensureStateDir(cfg), 'files');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return [dir];
}

export function openRunLedger(cfg: StateLocation, log: Logger): RunLedger {
  return new RunLedger(join(ensureStateDir(cfg), 'agentd-runs'), log);
}
