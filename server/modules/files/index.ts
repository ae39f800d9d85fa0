import { join } from 'node:path';
import { defineModule } from '../../module.js';
import { FileStore } from './file-store.js';
import { fileRoutes } from './routes.js';

declare module '../../module.js' {
  interface ManagerServices { files: FileStore }
}

export default defineModule({
  name: 'files',
  services: ({ config }) => ({ files: new FileStore(join(config.dataDir, 'files')) }),
  routes: (api, { services, config }) => fileRoutes(api, services.files, config.files.maxUploadBytes),
});
