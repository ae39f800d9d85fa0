// The pages and their URLs (each can be shared and reloaded: the manager answers every non-API
// path with index.html). Pages load as their own chunks, so the first page costs only itself.
import Box from '@mui/material/Box';
import CircularProgress from '@mui/material/CircularProgress';
import { lazy, Suspense, type ReactNode } from 'react';
import { Route, Routes } from 'react-router';
import { Layout } from './components/Layout';
import { RequireAuth } from './components/RequireAuth';
import { SignIn } from './pages/SignIn';

const Overview = lazy(() => import('./pages/Overview'));
const Nodes = lazy(() => import('./pages/Nodes'));
const Node = lazy(() => import('./pages/Node'));
const Tasks = lazy(() => import('./pages/Tasks'));
const Task = lazy(() => import('./pages/Task'));
const Templates = lazy(() => import('./pages/Templates'));
const Template = lazy(() => import('./pages/Template'));
const Schedules = lazy(() => import('./pages/Schedules'));
const Schedule = lazy(() => import('./pages/Schedule'));
const Releases = lazy(() => import('./pages/Releases'));
const Release = lazy(() => import('./pages/Release'));
const Rollouts = lazy(() => import('./pages/Rollouts'));
const Rollout = lazy(() => import('./pages/Rollout'));
const Events = lazy(() => import('./pages/Events'));
const Audit = lazy(() => import('./pages/Audit'));
const NotFound = lazy(() => import('./pages/NotFound'));

const Loading = () => <Box sx={{ p: 4 }} role="status" aria-label="Loading"><CircularProgress size={24} /></Box>;

function Page({ children }: { children: ReactNode }) {
  return (
    <RequireAuth>
      <Layout><Suspense fallback={<Loading />}>{children}</Suspense></Layout>
    </RequireAuth>
  );
}

export function App() {
  return (
    <Routes>
      <Route path="/signin" element={<SignIn />} />
      <Route path="/" element={<Page><Overview /></Page>} />
      <Route path="/nodes" element={<Page><Nodes /></Page>} />
      <Route path="/nodes/:name" element={<Page><Node /></Page>} />
      <Route path="/tasks" element={<Page><Tasks /></Page>} />
      <Route path="/tasks/:id" element={<Page><Task /></Page>} />
      <Route path="/templates" element={<Page><Templates /></Page>} />
      <Route path="/templates/:name" element={<Page><Template /></Page>} />
      <Route path="/schedules" element={<Page><Schedules /></Page>} />
      <Route path="/schedules/:name" element={<Page><Schedule /></Page>} />
      <Route path="/releases" element={<Page><Releases /></Page>} />
      <Route path="/releases/:version" element={<Page><Release /></Page>} />
      <Route path="/rollouts" element={<Page><Rollouts /></Page>} />
      <Route path="/rollouts/:id" element={<Page><Rollout /></Page>} />
      <Route path="/events" element={<Page><Events /></Page>} />
      <Route path="/audit" element={<Page><Audit /></Page>} />
      <Route path="*" element={<Page><NotFound /></Page>} />
    </Routes>
  );
}
