// How templates look in a terminal and in tab-separated output.
import type { TemplateSummary, TemplateView } from '../../../proto/rest/templates.js';
import { formatParam, paramEnvName, type TemplateParam } from '../../../proto/template-params.js';
import { renderFields, renderTable, time, type Column, type RenderContext } from '../output.js';

const paramList = (params: TemplateParam[]) => params.map(formatParam).join(' ');

export const TEMPLATE_COLUMNS: Column<TemplateSummary>[] = [
  { header: 'NAME', get: (t) => t.name },
  { header: 'VERSION', get: (t) => t.latestVersion },
  { header: 'INTERPRETER', get: (t) => t.interpreter },
  { header: 'PARAMS', get: (t) => paramList(t.params as TemplateParam[]) },
  { header: 'UPDATED', get: (t) => time(t.updatedAt) },
  { header: 'DESCRIPTION', get: (t) => t.description },
];

export function renderTemplateList(templates: TemplateSummary[], ctx: RenderContext): string {
  return renderTable(templates, TEMPLATE_COLUMNS, ctx);
}

const PARAM_COLUMNS: Column<TemplateParam>[] = [
  { header: 'PARAM', get: (p) => p.name },
  { header: 'TYPE', get: (p) => (p.type === 'enum' ? `enum(${(p.values ?? []).join(',')})` : p.type) },
  { header: 'DEFAULT', get: (p) => (p.required ? '(required)' : p.default) },
  { header: 'VARIABLE', get: (p) => paramEnvName(p.name) },
];

/** Header fields, then (on a terminal) the parameters, the versions and the script itself. */
export function renderTemplate(t: TemplateView, ctx: RenderContext): string {
  const v = t.current;
  const fields = renderFields([
    { label: 'Template', key: 'name', value: t.name },
    { label: 'Version', key: 'version', value: v.version === t.latestVersion ? `${v.version} (latest)` : `${v.version} (latest is ${t.latestVersion})` },
    { label: 'Description', key: 'description', value: v.description },
    { label: 'Kind', key: 'kind', value: v.kind },
    ...(v.kind === 'script' ? [{ label: 'Interpreter', key: 'interpreter', value: v.interpreter }] : []),
    ...(v.taskParams ? [{ label: v.kind === 'plugin' ? 'Plugin' : v.kind === 'service' ? 'Service' : 'File', key: v.kind, value: describeTaskParams(v.kind, v.taskParams) }] : []),
    { label: 'Params', key: 'params', value: paramList(v.params as TemplateParam[]) },
    { label: 'Schedules', key: 'schedules', value: t.schedules.join(', ') },
    { label: 'Version by', key: 'version_by', value: v.createdBy },
    { label: 'Version created', key: 'version_created', value: time(v.createdAt) },
  ], ctx);
  // Piped: the header fields; the script and versions are in --json.
  if (!ctx.tty) return fields;
  const params = v.params.length ? `\n${renderTable(v.params as TemplateParam[], PARAM_COLUMNS, ctx)}` : '';
  const versions = `\n${renderTable(t.versions, [
    { header: 'VERSION', get: (x) => x.version },
    { header: 'BY', get: (x) => x.createdBy },
    { header: 'CREATED', get: (x) => time(x.createdAt) },
    { header: 'DESCRIPTION', get: (x) => x.description },
  ], ctx)}`;
  if (v.kind !== 'script') return `${fields}${params}${versions}`;
  const script = v.script.replace(/\n$/, '').split('\n').map((l) => `    ${l}`).join('\n');
  return `${fields}${params}${versions}\nScript:\n${script}\n`;
}

/** "http-probe", "restart nginx", "delete /tmp/x": what a non-script template runs. */
function describeTaskParams(kind: string, p: Record<string, unknown>): string {
  if (kind === 'plugin') return String(p.name);
  if (kind === 'service') return `${String(p.action)} ${String(p.name)}`;
  return `${String(p.op)} ${String(p.path)}${p.dest ? ` → ${String(p.dest)}` : ''}`;
}
