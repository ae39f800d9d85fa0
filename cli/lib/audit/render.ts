// How audit rows look in a terminal and in tab-separated output.
import type { AuditEntryView, AuditVerifyResult } from '../../../proto/rest/audit.js';
import { dual, renderTable, time, type Column, type RenderContext } from '../output.js';

export const AUDIT_COLUMNS: Column<AuditEntryView>[] = [
  { header: 'ID', get: (e) => e.id },
  { header: 'TIME', get: (e) => time(e.at) },
  { header: 'ACTOR', get: (e) => `${e.actorKind}:${e.actor}` },
  { header: 'ACTION', get: (e) => e.action },
  { header: 'TARGET', get: (e) => e.target },
  // "ok", or the error code the action ended with (see the error table in README).
  { header: 'RESULT', get: (e) => (e.result === 'ok' ? 'ok' : dual(`error ${e.code}`, e.code)) },
  { header: 'SOURCE', get: (e) => e.source },
];


/** One line either way; a broken chain is reported by the command as an error. */
export function verifyLine(result: AuditVerifyResult): string {
  const rows = `${result.checked} row${result.checked === 1 ? '' : 's'} checked`;
  if (result.ok) return `audit log intact: ${rows}`;
  if (!result.firstBroken) return `audit log broken (${rows})`;
  return `audit log broken at row ${result.firstBroken.id}: ${result.firstBroken.reason}`;
}
