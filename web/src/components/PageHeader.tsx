import Box from '@mui/material/Box';
import Typography from '@mui/material/Typography';
import { useEffect, type ReactNode } from 'react';

/** The page's heading, also the browser tab's title. */
export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  useEffect(() => { document.title = `${title} · opsctl`; }, [title]);
  return (
    <Box sx={{ display: 'flex', alignItems: 'center', flexWrap: 'wrap', gap: 1, mb: 2 }}>
      <Typography variant="h5" component="h1" sx={{ flexGrow: 1, wordBreak: 'break-all', fontSize: { xs: '1.15rem', sm: '1.5rem' } }}>{title}</Typography>
      {children}
    </Box>
  );
}
