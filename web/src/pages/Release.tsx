// One release version (GET /releases/:version, as `opsctl release show`): each platform's build
// with its hashes and the signature hosts check, and the rollouts that sent this version.
import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Typography from '@mui/material/Typography';
import { useParams } from 'react-router';
import { releasesApi } from '../api/releases';
import { ErrorAlert } from '../components/ErrorAlert';
import { FieldsTable } from '../components/FieldsTable';
import { PageHeader } from '../components/PageHeader';
import { formatBytes, formatTime } from '../lib/format';
import { useLoad } from '../lib/use-load';
import { RolloutsTable } from './Rollouts';

export default function Release() {
  const { version = '' } = useParams();
  const release = useLoad((signal) => releasesApi.get(version, signal), [version]);
  const rollouts = useLoad(async (signal) => (await releasesApi.rollouts(signal)).filter((r) => r.version === version), [version]);

  return (
    <>
      <PageHeader title={`Release ${version}`} />
      <ErrorAlert error={release.error} what={`release ${version}`} />
      {release.data?.builds.map((b) => (
        <Card variant="outlined" sx={{ mb: 2 }} key={`${b.platform}-${b.arch}`}>
          <CardContent>
            <Typography variant="subtitle2" component="h2" gutterBottom>{b.platform}-{b.arch}</Typography>
            <FieldsTable label={`Build ${b.platform}-${b.arch}`} rows={[
              ['File', b.file],
              ['Size', `${formatBytes(b.size)} (${b.size} bytes)`],
              ['SHA-256', <Box component="code" key="sha" sx={{ wordBreak: 'break-all' }}>{b.sha256}</Box>],
              ['Signed by key', b.keyId],
              ['Created', formatTime(b.createdAt)],
              ['Expires', formatTime(b.expiresAt)],
              ['Uploaded', `${formatTime(b.uploadedAt)} by ${b.uploadedBy}`],
              ['Notes', b.notes || '—'],
            ]} />
          </CardContent>
        </Card>
      ))}
      <Typography variant="h6" component="h2" sx={{ mt: 3, mb: 1 }}>Rollouts of {version}</Typography>
      <ErrorAlert error={rollouts.error} what="rollouts" />
      {rollouts.data && <RolloutsTable rollouts={rollouts.data} empty={`${version} was not rolled out: opsctl release rollout ${version} SELECTOR.`} />}
    </>
  );
}
