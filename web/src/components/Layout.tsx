import AppBar from '@mui/material/AppBar';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Drawer from '@mui/material/Drawer';
import IconButton from '@mui/material/IconButton';
import List from '@mui/material/List';
import ListItem from '@mui/material/ListItem';
import ListItemButton from '@mui/material/ListItemButton';
import ListItemText from '@mui/material/ListItemText';
import Toolbar from '@mui/material/Toolbar';
import Typography from '@mui/material/Typography';
import { useState, type ReactNode } from 'react';
import { Link as RouterLink, useLocation } from 'react-router';
import type { Permission } from '../../../proto/permissions';
import { useAuth } from '../auth';
import { MenuIcon } from './icons';

const DRAWER_WIDTH = 200;

/** The pages, each shown only to those who may read what it lists. */
export const NAV: { to: string; label: string; permission?: Permission }[] = [
  { to: '/', label: 'Overview' },
  { to: '/nodes', label: 'Nodes', permission: 'nodes:read' },
  { to: '/tasks', label: 'Tasks', permission: 'tasks:read' },
  { to: '/templates', label: 'Templates', permission: 'templates:read' },
  { to: '/schedules', label: 'Schedules', permission: 'schedules:read' },
  { to: '/releases', label: 'Releases', permission: 'releases:read' },
  { to: '/rollouts', label: 'Rollouts', permission: 'releases:read' },
  { to: '/events', label: 'Events', permission: 'events:read' },
  { to: '/audit', label: 'Audit log', permission: 'audit:read' },
];

export function Layout({ children }: { children: ReactNode }) {
  const { me, can, signOut } = useAuth();
  const location = useLocation();
  const [open, setOpen] = useState(false);
  const current = (to: string) => (to === '/' ? location.pathname === '/' : location.pathname.startsWith(to));
  const nav = (
    <nav aria-label="Pages">
      <List>
        {NAV.filter((n) => !n.permission || can(n.permission)).map((n) => (
          <ListItem key={n.to} disablePadding>
            <ListItemButton component={RouterLink} to={n.to} selected={current(n.to)} aria-current={current(n.to) ? 'page' : undefined}
              onClick={() => setOpen(false)}>
              <ListItemText primary={n.label} />
            </ListItemButton>
          </ListItem>
        ))}
      </List>
    </nav>
  );
  return (
    <Box sx={{ display: 'flex', minHeight: '100vh' }}>
      <AppBar position="fixed" sx={{ zIndex: (t) => t.zIndex.drawer + 1 }}>
        <Toolbar>
          <IconButton color="inherit" edge="start" aria-label="Open the menu" onClick={() => setOpen(true)} sx={{ mr: 1, display: { md: 'none' } }}>
            <MenuIcon />
          </IconButton>
          <Typography variant="h6" component="div" sx={{ flexGrow: 1 }}>opsctl</Typography>
          {me && (
            <Typography variant="body2" sx={{ mr: 2, display: { xs: 'none', sm: 'block' } }} data-testid="whoami">
              {me.name} ({me.role})
            </Typography>
          )}
          <Button color="inherit" onClick={() => void signOut()}>Sign out</Button>
        </Toolbar>
      </AppBar>
      <Drawer variant="temporary" open={open} onClose={() => setOpen(false)} sx={{ display: { md: 'none' }, '& .MuiDrawer-paper': { width: DRAWER_WIDTH } }}>
        {nav}
      </Drawer>
      <Drawer variant="permanent" sx={{ display: { xs: 'none', md: 'block' }, width: DRAWER_WIDTH, flexShrink: 0, '& .MuiDrawer-paper': { width: DRAWER_WIDTH, boxSizing: 'border-box' } }}>
        <Toolbar />
        {nav}
      </Drawer>
      <Box component="main" sx={{ flexGrow: 1, minWidth: 0, p: { xs: 1.5, md: 3 } }}>
        <Toolbar />
        {children}
      </Box>
    </Box>
  );
}
