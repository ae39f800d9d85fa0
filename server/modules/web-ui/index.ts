import { join } from 'node:path';
import { packageRoot } from '../../../lib/version.js';
import { defineModule } from '../../module.js';
import { WebUiFiles } from './files.js';
import { webUiRoutes } from './routes.js';

declare module '../../module.js' {
  interface ManagerServices { webUi: WebUiFiles }
}

/** Where `npm run build` writes the web UI (web/vite.config.ts). */
export const WEB_BUILD_DIR = join(packageRoot(), 'dist', 'web');

export default defineModule({
  name: 'web-ui',
  services: ({ log, overrides }) => {
    // overrides['web-ui'].dir: tests point the manager at a build of their own, or at none.
    const dir = (overrides['web-ui']?.dir as string | undefined) ?? WEB_BUILD_DIR;
    const webUi = WebUiFiles.load(dir);
    if (!webUi.built) log.warn({ dir }, 'web UI not built (no index.html): the manager serves the API only; `npm run build` builds it');
    return { webUi };
  },
  rootRoutes: (app, { services }) => webUiRoutes(app, services.webUi),
});
