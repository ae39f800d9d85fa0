// How releases and rollouts look in a terminal and in tab-separated output.
import type { ReleaseDetail, ReleaseView, RolloutDetail, RolloutHostView, RolloutView, WaveView } from '../../../proto/rest/releases.js';
import { rolloutTotals, waveName } from '../../../proto/rollouts.js';
import { humanBytes } from '../format.js';
import { dual, renderFields, renderTable, time, type Column, type RenderContext } from '../output.js';

export const RELEASE_COLUMNS: Column<ReleaseView>[] = [
  { header: 'VERSION', get: (r) => r.version },
  { header: 'PLATFORM', get: (r) => `${r.platform}-${r.arch}` },
  { header: 'SIZE', get: (r) => dual(humanBytes(r.size), r.size) },
  { header: 'KEY', get: (r) => r.keyId },
  { header: 'EXPIRES', get: (r) => time(r.expiresAt) },
  { header: 'UPLOADED', get: (r) => time(r.uploadedAt) },
  { header: 'BY', get: (r) => r.uploadedBy },
];

export function renderReleaseList(releases: ReleaseView[], ctx: RenderContext): string {
  return renderTable(releases, RELEASE_COLUMNS, ctx);
}

export function renderRelease(d: ReleaseDetail, ctx: RenderContext): string {
  return d.builds.map((b) => renderFields([
    { label: 'Version', key: 'version', value: b.version },
    { label: 'Platform', key: 'platform', value: `${b.platform}-${b.arch}` },
    { label: 'File', key: 'file', value: b.file },
    { label: 'Size', key: 'size', value: dual(humanBytes(b.size), b.size) },
    { label: 'SHA-256', key: 'sha256', value: b.sha256 },
    { label: 'Signed by key', key: 'key_id', value: b.keyId },
    { label: 'Created', key: 'created', value: time(b.createdAt) },
    { label: 'Expires', key: 'expires', value: time(b.expiresAt) },
    { label: 'Uploaded', key: 'uploaded', value: time(b.uploadedAt) },
    { label: 'Uploaded by', key: 'uploaded_by', value: b.uploadedBy },
    { label: 'Notes', key: 'notes', value: b.notes || null },
  ], ctx)).join(ctx.tty ? '\n' : '');
}

/** `[#####-----]`: committed, then failed (x), then in progress (~), of a wave's hosts. */
export function progressBar(w: Pick<WaveView, 'hosts' | 'committed' | 'failed' | 'inProgress' | 'reverted'>, width = 20): string {
  const scale = (n: number) => Math.round((n / Math.max(1, w.hosts)) * width);
  const done = scale(w.committed + w.reverted);
  const failed = Math.min(width - done, scale(w.failed));
  const busy = Math.min(width - done - failed, scale(w.inProgress));
  return `[${'#'.repeat(done)}${'x'.repeat(failed)}${'~'.repeat(busy)}${'-'.repeat(width - done - failed - busy)}]`;
}


export const WAVE_COLUMNS = (r: RolloutView): Column<WaveView>[] => [
  { header: 'WAVE', get: (w) => dual(waveName(w.wave, r.canary) + (w.wave === r.currentWave && r.state === 'running' ? ' *' : ''), w.wave) },
  { header: 'PROGRESS', get: (w) => dual(progressBar(w), `${w.committed + w.reverted}/${w.hosts}`) },
  { header: 'HOSTS', get: (w) => w.hosts },
  { header: 'DONE', get: (w) => w.committed },
  { header: 'UPDATING', get: (w) => w.inProgress },
  { header: 'PENDING', get: (w) => w.pending },
  { header: 'FAILED', get: (w) => w.failed },
  { header: 'REVERTED', get: (w) => w.reverted },
];

export const ROLLOUT_COLUMNS: Column<RolloutView>[] = [
  { header: 'ID', get: (r) => r.id },
  { header: 'VERSION', get: (r) => r.version },
  { header: 'STATE', get: (r) => r.state },
  { header: 'PROGRESS', get: (r) => { const t = rolloutTotals(r); return dual(`${progressBar(t)} ${t.committed}/${t.hosts}`, `${t.committed}/${t.hosts}`); } },
  { header: 'FAILED', get: (r) => rolloutTotals(r).failed },
  { header: 'CREATED', get: (r) => time(r.createdAt) },
  { header: 'BY', get: (r) => r.createdBy },
];


const HOST_COLUMNS: Column<RolloutHostView>[] = [
  { header: 'NODE', get: (h) => h.node },
  { header: 'WAVE', get: (h) => h.wave },
  { header: 'STATE', get: (h) => h.state },
  { header: 'FROM', get: (h) => h.fromVersion },
  { header: 'MESSAGE', get: (h) => h.message },
];

export function renderRolloutList(rollouts: RolloutView[], ctx: RenderContext): string {
  return renderTable(rollouts, ROLLOUT_COLUMNS, ctx);
}

/** The rollout's fields, a row per wave with its bar, and (with `hosts`) every host not yet committed. */
export function renderRollout(r: RolloutDetail, ctx: RenderContext, hosts: 'all' | 'unfinished' = 'unfinished'): string {
  const fields = renderFields([
    { label: 'Rollout', key: 'id', value: r.id },
    { label: 'Version', key: 'version', value: r.version },
    { label: 'State', key: 'state', value: r.state },
    { label: 'Options', key: 'options', value: `canary ${r.canary}, batch ${r.batch}, max-fail ${r.maxFail} (${r.failureBudget} hosts), health wait ${r.healthSeconds} s` },
    { label: 'Stopped because', key: 'stop_reason', value: r.stopReason || null },
    { label: 'Started', key: 'created', value: time(r.createdAt) },
    { label: 'By', key: 'created_by', value: r.createdBy },
    { label: 'Finished', key: 'finished', value: time(r.finishedAt) },
  ], ctx);
  const shown = hosts === 'all' ? r.hosts : r.hosts.filter((h) => h.state !== 'committed' && h.state !== 'pending' && h.state !== 'reverted');
  if (!ctx.tty) {
    return fields + r.waves.map((w) => ['wave', w.wave, w.hosts, w.committed, w.inProgress, w.pending, w.failed, w.reverted].join('\t') + '\n').join('') +
      r.hosts.map((h) => ['host', h.node, h.wave, h.state, h.fromVersion, h.message.replace(/[\t\r\n]+/g, ' ')].join('\t') + '\n').join('');
  }
  return `${fields}\n${renderTable(r.waves, WAVE_COLUMNS(r), ctx)}${shown.length ? `\n${renderTable(shown, HOST_COLUMNS, ctx)}` : ''}`;
}
