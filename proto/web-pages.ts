// The web UI's pages (web/src/App.tsx): the manager answers each of these paths, and every path
// below it, with index.html, so a page's URL can be shared and reloaded. Only these: the rest of
// the manager's paths (/api/, /metrics, /install.sh, /bundles/) keep their own answers and 404s.
// A test keeps this list and App.tsx in step.
export const WEB_PAGES = ['/', '/signin', '/nodes', '/tasks', '/templates', '/schedules', '/releases', '/rollouts', '/events', '/audit'] as const;
