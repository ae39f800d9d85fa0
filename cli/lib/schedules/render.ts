// How schedules look in a terminal and in tab-separated output.
import type { ScheduleDetail, ScheduleFireView, ScheduleView } from '../../../proto/rest/schedules.js';
import { describeSelector } from '../../../proto/selector.js';
import { cellText, renderFields, renderTable, time, type Column, type RenderContext } from '../output.js';

/** What a fire came to: the task's status, or why there was no task. */
export const fireResult = (f: ScheduleFireView | null): string | null => (f === null ? null : f.taskId ? (f.status ?? 'unknown') : `error: ${f.error ?? ''}`);

const state = (s: ScheduleView) => (s.paused ? `paused${s.pausedReason ? `: ${s.pausedReason}` : ''}` : 'active');
const template = (s: ScheduleView) => `${s.template}${s.templateVersion ? ` v${s.templateVersion}` : ''}`;

export const SCHEDULE_COLUMNS: Column<ScheduleView>[] = [
  { header: 'NAME', get: (s) => s.name },
  { header: 'CRON', get: (s) => s.cron },
  { header: 'TZ', get: (s) => s.tz },
  { header: 'TEMPLATE', get: (s) => template(s) },
  { header: 'NEXT', get: (s) => time(s.nextFireAt) },
  { header: 'LAST', get: (s) => time(s.lastFire?.dueAt) },
  { header: 'RESULT', get: (s) => fireResult(s.lastFire) },
  { header: 'STATE', get: (s) => state(s) },
];

export function renderScheduleList(schedules: ScheduleView[], ctx: RenderContext): string {
  return renderTable(schedules, SCHEDULE_COLUMNS, ctx);
}

export const FIRE_COLUMNS: Column<ScheduleFireView>[] = [
  { header: 'DUE', get: (f) => time(f.dueAt) },
  { header: 'TASK', get: (f) => f.taskId },
  { header: 'RESULT', get: (f) => fireResult(f) },
];

export function renderSchedule(s: ScheduleDetail, ctx: RenderContext): string {
  const params = Object.entries(s.params).map(([k, v]) => `${k}=${v}`).join(' ');
  const rollout = s.rollout ? Object.entries(s.rollout).map(([k, v]) => `${k}=${v}`).join(' ') : null;
  const fields = renderFields([
    { label: 'Schedule', key: 'name', value: s.name },
    { label: 'State', key: 'state', value: state(s) },
    { label: 'Cron', key: 'cron', value: `${s.cron} (${s.tz})` },
    { label: 'Template', key: 'template', value: template(s) },
    { label: 'Params', key: 'params', value: params },
    { label: 'Nodes', key: 'selector', value: describeSelector(s.selector) },
    { label: 'Rollout', key: 'rollout', value: rollout },
    { label: 'Queue', key: 'queue', value: s.queue ? `yes${s.queueExpiresSeconds ? `, expires after ${s.queueExpiresSeconds} s` : ''}` : 'no' },
    { label: 'Timeout', key: 'timeout_seconds', value: s.timeoutSeconds === null ? null : `${s.timeoutSeconds} s` },
    { label: 'Catch up', key: 'catch_up', value: s.catchUp ? 'yes' : 'no' },
    { label: 'Runs as', key: 'created_by', value: s.createdBy },
    { label: 'Created', key: 'created', value: time(s.createdAt) },
    { label: 'Next fire', key: 'next', value: time(s.nextFireAt) },
  ], ctx);
  // Piped: the fields, then one `fire` row per recent fire.
  if (!ctx.tty) return fields + s.recentFires.map((f) => ['fire', ...FIRE_COLUMNS.map((c) => cellText(c.get(f), ctx))].join('\t') + '\n').join('');
  return `${fields}\n${s.recentFires.length ? renderTable(s.recentFires, FIRE_COLUMNS, ctx) : 'No fires yet.\n'}`;
}
