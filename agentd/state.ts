// Where agentd keeps what must outlive the process: the nonces of requests it accepted (replay
// protection across restarts) and the runs it has running (so a successor can end them if agentd
// is killed). agentd has no data-dir option of its own, so this is the folder of its keys file:
// the one path it is always given, private to it, and under hostd that is hostd's data dir, beside
// agentd.pid and agentd.log. (Not /run: a reboot empties it, and a reboot can be quicker than the
// 300 s a captured request stays valid.)
import { dirname, join, resolve } from 'node:path';
import type { Logger } from '../lib/log.js';
import { RunLedger } from './exec/run-ledger.js';
import { PersistentNonceCache } from './http/nonce-store.js';

export function agentdStateDir(keysFile: string): string {
  return dirname(resolve(keysFile));
}

/** Opened (and checked) when the HTTP API starts, so a folder agentd cannot write stops it there. */
export function openNonceStore(keysFile: string): PersistentNonceCache {
  return new PersistentNonceCache(join(agentdStateDir(keysFile), 'agentd-nonces.jsonl'));
}

export function openRunLedger(keysFile: string, log: Logger): RunLedger {
  return new RunLedger(join(agentdStateDir(keysFile), 'agentd-runs'), log);
}
