import { Link } from 'react-router';
import type { TemplateSummary } from '../../../proto/rest/templates';
import { templatesApi } from '../api/templates';
import { PageHeader } from '../components/PageHeader';
import { PagedTable, pagesOf, type Column } from '../components/PagedTable';
import { formatAgo } from '../lib/format';

const COLUMNS: Column<TemplateSummary>[] = [
  { label: 'Name', render: (t) => <Link to={`/templates/${encodeURIComponent(t.name)}`}>{t.name}</Link> },
  { label: 'Version', render: (t) => t.latestVersion, align: 'right' },
  { label: 'Interpreter', render: (t) => t.interpreter, wide: true },
  { label: 'Parameters', render: (t) => t.params.map((p) => p.name).join(', ') || '—', wide: true },
  { label: 'Description', render: (t) => t.description || '—' },
  { label: 'By', render: (t) => t.createdBy, wide: true },
  { label: 'Updated', render: (t) => formatAgo(t.updatedAt) },
];

export default function Templates() {
  return (
    <>
      <PageHeader title="Templates" />
      <PagedTable label="Templates" columns={COLUMNS} rowKey={(t) => t.name} fetchPage={pagesOf(templatesApi.list)}
        empty="No templates: create one with opsctl templates create." />
    </>
  );
}
