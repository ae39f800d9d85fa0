import Alert from '@mui/material/Alert';
import Chip from '@mui/material/Chip';
import type { StreamState } from '../api/sse';

/** What a live view says about its stream: live, or reconnecting (by itself) and why. */
export function StreamBanner({ state, detail, reconnected }: { state: StreamState; detail?: string; reconnected: boolean }) {
  if (state === 'reconnecting') {
    return <Alert severity="warning" role="status" sx={{ my: 1 }}>Lost the live stream ({detail ?? 'no answer'}); reconnecting by itself…</Alert>;
  }
  if (state === 'live') {
    return <Chip role="status" size="small" color="success" variant="outlined" label={reconnected ? 'Live (reconnected)' : 'Live'} sx={{ my: 1 }} />;
  }
  if (state === 'connecting') return <Chip role="status" size="small" variant="outlined" label="Connecting…" sx={{ my: 1 }} />;
  return null;
}
