/** Self-signed wildcard certificates for the TLS tests, made with the machine's openssl. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface CertificatePair {
  certFile: string;
  keyFile: string;
}

/** Writes `<prefix>.cert.pem` / `<prefix>.key.pem` into `dir`: a 1-day P-256 cert for *.localhost. */
export function makeCertificate(
  dir: string,
  prefix: string,
  commonName = 'localhost',
): CertificatePair {
  const certFile = join(dir, `${prefix}.cert.pem`);
  const keyFile = join(dir, `${prefix}.key.pem`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      'subjectAltName=DNS:localhost,DNS:*.localhost',
    ],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile };
}
