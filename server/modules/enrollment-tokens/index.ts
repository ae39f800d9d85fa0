import { defineModule } from '../../module.js';
import { EnrollmentTokenSchema } from './enrollment-token.entity.js';
import { enrollmentTokenRoutes } from './routes.js';
import { EnrollmentTokensService } from './service.js';

declare module '../../module.js' {
  interface ManagerServices { tokens: EnrollmentTokensService }
}

export default defineModule({
  name: 'enrollment-tokens',
  after: ['host-install'],
  entities: [EnrollmentTokenSchema],
  services: ({ orm, log, config, caHash, services }) => ({
    tokens: new EnrollmentTokensService(orm, log.child({ module: 'enrollment-tokens' }), {
      // Read per call: with grpc.port 0 the advertised port is known only once the gateway listens.
      get grpcAddress() { return config.grpc.advertise; },
      caHash,
      installSource: () => services.hostInstall.source(),
    }),
  }),
  routes: (api, { services }) => enrollmentTokenRoutes(api, services.tokens),
});
