// Stored releases (GET /releases, as `opsctl release list`): one row per version and platform.
import { Link } from 'react-router';
import type { ReleaseView } from '../../../proto/rest/releases';
import { releasesApi } from '../api/releases';
import { PageHeader } from '../components/PageHeader';
import { PagedTable, pagesOf, type Column } from '../components/PagedTable';
import { formatAgo, formatBytes, formatTime } from '../lib/format';

const COLUMNS: Column<ReleaseView>[] = [
  { label: 'Version', render: (r) => <Link to={`/releases/${encodeURIComponent(r.version)}`}>{r.version}</Link> },
  { label: 'Platform', render: (r) => `${r.platform}-${r.arch}` },
  { label: 'Size', render: (r) => formatBytes(r.size), align: 'right' },
  { label: 'Signed by key', render: (r) => r.keyId, wide: true },
  { label: 'Expires', render: (r) => formatTime(r.expiresAt), wide: true },
  { label: 'Uploaded', render: (r) => formatAgo(r.uploadedAt) },
  { label: 'By', render: (r) => r.uploadedBy, wide: true },
];

export default function Releases() {
  return (
    <>
      <PageHeader title="Releases" />
      <PagedTable label="Releases" columns={COLUMNS} rowKey={(r) => `${r.version} ${r.platform}-${r.arch}`} fetchPage={pagesOf(releasesApi.list)}
        empty="No releases: upload one with opsctl release create." />
    </>
  );
}
