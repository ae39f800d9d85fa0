import Chip from '@mui/material/Chip';

type Colour = 'success' | 'error' | 'warning' | 'info' | 'default';

const COLOURS: Record<string, Colour> = {
  online: 'success', succeeded: 'success', ok: 'success', healthy: 'success',
  offline: 'error', failed: 'error', error: 'error', timeout: 'error', lost: 'error', critical: 'error',
  degraded: 'warning', cancelled: 'warning', warning: 'warning', skipped: 'default',
  running: 'info', pending: 'info', queued: 'info', dispatched: 'info',
  // Rollouts and their hosts (proto/rest/releases.ts).
  completed: 'success', committed: 'success', halted: 'error', paused: 'warning', 'rolling-back': 'warning', reverting: 'warning',
  sent: 'info', downloading: 'info', verifying: 'info', installing: 'info', restarting: 'info', 'health-check': 'info',
};

export function StatusChip({ status }: { status: string }) {
  return <Chip size="small" label={status} color={COLOURS[status] ?? 'default'} variant={COLOURS[status] ? 'filled' : 'outlined'} />;
}
