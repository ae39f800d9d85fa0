// One template (GET /templates/:name, as `opsctl templates show`): a version in full (?version=N,
// default the latest) with its parameters and script, every version, the schedules running it.
import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import FormControl from '@mui/material/FormControl';
import InputLabel from '@mui/material/InputLabel';
import LinearProgress from '@mui/material/LinearProgress';
import MenuItem from '@mui/material/MenuItem';
import Select from '@mui/material/Select';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { Link, useParams, useSearchParams } from 'react-router';
import type { TemplateVersionView, TemplateView } from '../../../proto/rest/templates';
import { templatesApi } from '../api/templates';
import { ErrorAlert } from '../components/ErrorAlert';
import { FieldsTable } from '../components/FieldsTable';
import { PageHeader } from '../components/PageHeader';
import type { Column } from '../components/PagedTable';
import { RowsTable } from '../components/RowsTable';
import { formatAgo, formatTime } from '../lib/format';
import { useLoad } from '../lib/use-load';

type Param = TemplateVersionView['params'][number];
type VersionRow = TemplateView['versions'][number];

const PARAM_COLUMNS: Column<Param>[] = [
  { label: 'Name', render: (p) => p.name },
  { label: 'Type', render: (p) => (p.values ? `${p.type}: ${p.values.join(' | ')}` : p.type) },
  { label: 'Required', render: (p) => (p.required ? 'yes' : 'no') },
  { label: 'Default', render: (p) => (p.default === undefined ? '—' : p.default === '' ? '(empty)' : p.default) },
];

export default function Template() {
  const { name = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const asked = Number(params.get('version')) || undefined;
  const template = useLoad((signal) => templatesApi.get(name, asked, signal), [name, asked]);
  const t = template.data;
  const v = t?.current;
  const versionColumns: Column<VersionRow>[] = [
    { label: 'Version', render: (x) => (x.version === v?.version ? `${x.version} (shown)` : <Link to={`?version=${x.version}`}>{x.version}</Link>), align: 'right' },
    { label: 'Description', render: (x) => x.description || '—' },
    { label: 'By', render: (x) => x.createdBy },
    { label: 'Created', render: (x) => formatAgo(x.createdAt) },
  ];

  return (
    <>
      <PageHeader title={`Template ${name}`}>
        {t && t.versions.length > 1 && (
          <FormControl size="small" sx={{ minWidth: 140 }}>
            <InputLabel id="template-version-label">Version</InputLabel>
            <Select labelId="template-version-label" label="Version" value={String(v?.version ?? '')}
              onChange={(e) => setParams((p) => { if (Number(e.target.value) === t.latestVersion) p.delete('version'); else p.set('version', e.target.value); return p; })}>
              {t.versions.map((x) => <MenuItem key={x.version} value={String(x.version)}>{x.version}{x.version === t.latestVersion ? ' (latest)' : ''}</MenuItem>)}
            </Select>
          </FormControl>
        )}
      </PageHeader>
      {!t && template.loading && <LinearProgress aria-label="Loading the template" />}
      <ErrorAlert error={template.error} what={`template ${name}`} />
      {t && v && (
        <>
          <Card variant="outlined" sx={{ mb: 2 }}>
            <CardContent>
              <FieldsTable label="Template" rows={[
                ['Version', `${v.version} of ${t.latestVersion}`],
                ['Description', v.description || '—'],
                ['Kind', v.kind === 'script' ? `script (${v.interpreter})` : v.kind],
                ['This version', `${formatTime(v.createdAt)} by ${v.createdBy}`],
                ['Created', `${formatTime(t.createdAt)} by ${t.createdBy}`],
                ['Schedules', t.schedules.length ? (
                  <Stack key="s" direction="row" spacing={1} useFlexGap sx={{ flexWrap: 'wrap' }}>
                    {t.schedules.map((s) => <Link key={s} to={`/schedules/${encodeURIComponent(s)}`}>{s}</Link>)}
                  </Stack>
                ) : 'none'],
              ]} />
            </CardContent>
          </Card>
          <Typography variant="h6" component="h2" sx={{ mb: 1 }}>Parameters</Typography>
          <RowsTable label="Parameters" columns={PARAM_COLUMNS} rows={v.params} rowKey={(p) => p.name} empty="No parameters." />
          <Typography variant="h6" component="h2" sx={{ mb: 1 }}>{v.kind === 'script' ? 'Script' : 'Task'}</Typography>
          <Box component="pre" tabIndex={0} aria-label={v.kind === 'script' ? 'Script' : 'Task parameters'}
            sx={{ mt: 0, mb: 2, p: 1.5, bgcolor: 'action.hover', borderRadius: 1, whiteSpace: 'pre-wrap', wordBreak: 'break-all', fontSize: 13, maxHeight: 400, overflow: 'auto' }}>
            {v.kind === 'script' ? v.script : JSON.stringify(v.taskParams, null, 2)}
          </Box>
          <Typography variant="h6" component="h2" sx={{ mb: 1 }}>Versions</Typography>
          <RowsTable label="Versions" columns={versionColumns} rows={t.versions} rowKey={(x) => String(x.version)} />
        </>
      )}
    </>
  );
}
