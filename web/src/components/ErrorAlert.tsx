import Alert from '@mui/material/Alert';
import { ApiError } from '../api/request';

/** A failed load, with the manager's own message (and code) as text. */
export function ErrorAlert({ error, what }: { error: Error | undefined; what: string }) {
  if (!error) return null;
  const code = error instanceof ApiError && error.code ? ` (${error.code})` : '';
  return <Alert severity="error" sx={{ my: 2 }}>Could not load {what}: {error.message}{code}</Alert>;
}
