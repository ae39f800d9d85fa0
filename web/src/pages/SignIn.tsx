import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Paper from '@mui/material/Paper';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useEffect, useState, type FormEvent } from 'react';
import { Navigate, useSearchParams } from 'react-router';
import { session } from '../api/session';
import { useAuth } from '../auth';

/** Only a path of this app: never another site (`//evil.example`) after signing in. */
function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

export function SignIn() {
  const { signedIn, signIn } = useAuth();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  useEffect(() => { document.title = 'Sign in · opsctl'; }, []);
  if (signedIn) return <Navigate to={next} replace />;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(username, password);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Box component="main" sx={{ minHeight: '100vh', display: 'grid', placeItems: 'center', p: 2 }}>
      <Paper variant="outlined" sx={{ p: 3, width: '100%', maxWidth: 380 }}>
        <Typography variant="h5" component="h1" gutterBottom>Sign in to opsctl</Typography>
        <Typography variant="body2" color="text.secondary" sx={{ mb: 2 }}>The same account as <code>opsctl login</code>.</Typography>
        {session.endedBy() === 'expired' && (
          <Alert severity="info" sx={{ mb: 2 }} data-testid="session-ended">Your session has ended; sign in again to go on.</Alert>
        )}
        {error && <Alert severity="error" sx={{ mb: 2 }} role="alert">{error}</Alert>}
        <form onSubmit={(e) => void submit(e)} noValidate>
          <TextField label="User name" name="username" autoComplete="username" fullWidth required margin="dense" autoFocus
            value={username} onChange={(e) => setUsername(e.target.value)} />
          <TextField label="Password" name="password" type="password" autoComplete="current-password" fullWidth required margin="dense"
            value={password} onChange={(e) => setPassword(e.target.value)} />
          <Button type="submit" variant="contained" fullWidth sx={{ mt: 2 }} disabled={busy || !username || !password}>Sign in</Button>
        </form>
      </Paper>
    </Box>
  );
}
