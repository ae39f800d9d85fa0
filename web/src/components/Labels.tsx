import Chip from '@mui/material/Chip';
import Stack from '@mui/material/Stack';

/** key=value chips, the first `max` of them and a count of the rest. */
export function Labels({ labels, max = 4 }: { labels: Record<string, string>; max?: number }) {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return (
    <Stack direction="row" spacing={0.5} useFlexGap sx={{ flexWrap: 'wrap' }}>
      {entries.slice(0, max).map(([k, v]) => <Chip key={k} size="small" variant="outlined" label={`${k}=${v}`} />)}
      {entries.length > max && <Chip size="small" label={`+${entries.length - max}`} />}
    </Stack>
  );
}
