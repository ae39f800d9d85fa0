import Box from '@mui/material/Box';
import LinearProgress from '@mui/material/LinearProgress';
import type { WaveView } from '../../../proto/rest/releases';

/** Hosts done (committed or reverted) of a wave's or a rollout's hosts: a bar and "n/m". */
export function WaveProgress({ wave, label }: { wave: WaveView; label: string }) {
  const done = wave.committed + wave.reverted;
  const value = wave.hosts ? (done / wave.hosts) * 100 : 0;
  return (
    <Box sx={{ display: 'flex', alignItems: 'center', gap: 1, minWidth: 140 }}>
      <LinearProgress variant="determinate" value={value} color={wave.failed ? 'error' : 'primary'} aria-label={label}
        aria-valuetext={`${done} of ${wave.hosts} hosts done${wave.failed ? `, ${wave.failed} failed` : ''}`} sx={{ flexGrow: 1, height: 8, borderRadius: 1 }} />
      <Box component="span" sx={{ fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }}>{done}/{wave.hosts}</Box>
    </Box>
  );
}
