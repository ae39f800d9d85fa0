// Server TLS for the host-link port: TLS 1.3 only, and a client certificate is *requested* but not
// required, so one port serves Enroll (no certificate yet) and Connect (mutual TLS, checked per call
// in the handler). grpc-js's createSsl() can only require a certificate or not ask for one at all,
// so this subclass hands http2.createSecureServer the exact options.
import * as grpc from '@grpc/grpc-js';

export class RequestClientCertCredentials extends grpc.ServerCredentials {
  constructor(caPem: string, certChainPem: string, keyPem: string) {
    super(
      { requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3' },
      { ca: [caPem], cert: certChainPem, key: keyPem, minVersion: 'TLSv1.3' },
    );
  }

  _equals(other: grpc.ServerCredentials): boolean {
    return this === other;
  }
}
