/**
 * Debian's pebble (the RFC 8555 test CA) on loopback: its HTTPS listener gets a certificate from a
 * throwaway CA made with openssl (the ACME client is told to trust it with --acme-ca-file); its
 * DNS-01 checks go to the name server given; certificates live `validitySeconds`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { type Proc, reservePort, startProcess } from './processes.ts';

export interface Pebble {
  directory: string;
  /** The CA of pebble's own HTTPS listener (not of the certificates it issues). */
  listenerCaFile: string;
  proc: Proc;
  /** The root the certificates issued since the last start chain to (pebble makes a new one per start). */
  issuingRoot(): Promise<string>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function listenerCertificate(dir: string): { ca: string; cert: string; key: string } {
  const ca = join(dir, 'pebble-listener-ca.pem');
  const caKey = join(dir, 'pebble-listener-ca.key');
  const cert = join(dir, 'pebble-listener.pem');
  const key = join(dir, 'pebble-listener.key');
  const csr = join(dir, 'pebble-listener.csr');
  const ext = join(dir, 'pebble-listener.ext');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      caKey,
      '-out',
      ca,
      '-days',
      '1',
      '-subj',
      '/CN=pebble listener test CA',
    ],
    { stdio: 'ignore' },
  );
  execFileSync('openssl', ['req', ...ec, '-keyout', key, '-out', csr, '-subj', '/CN=localhost'], {
    stdio: 'ignore',
  });
  writeFileSync(ext, 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  execFileSync(
    'openssl',
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-out',
      cert,
      '-days',
      '1',
      '-extfile',
      ext,
    ],
    { stdio: 'ignore' },
  );
  return { ca, cert, key };
}

export async function startPebble(options: {
  dir: string;
  dnsServer: string;
  validitySeconds: number;
}): Promise<Pebble> {
  const listener = listenerCertificate(options.dir);
  const port = await reservePort();
  const managementPort = await reservePort();
  const config = join(options.dir, 'pebble-config.json');
  writeFileSync(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${port}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: listener.cert,
        privateKey: listener.key,
        httpPort: 5002,
        tlsPort: 5001,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        certificateValidityPeriod: options.validitySeconds,
      },
    }),
  );
  const dispatcher = new Agent({ connect: { ca: readFileSync(listener.ca, 'utf8') } });
  const pebble: Pebble = {
    directory: `https://127.0.0.1:${port}/dir`,
    listenerCaFile: listener.ca,
    proc: null as unknown as Proc,
    async issuingRoot() {
      const res = await request(`https://127.0.0.1:${managementPort}/roots/0`, { dispatcher });
      return res.body.text();
    },
    async start() {
      pebble.proc = startProcess(
        'pebble',
        ['-config', config, '-dnsserver', options.dnsServer, '-strict=false'],
        { env: { PEBBLE_VA_NOSLEEP: '1' } },
      );
      await pebble.proc.waitFor(/Listening on: 127\.0\.0\.1:\d+/, 20_000);
    },
    async stop() {
      await pebble.proc?.kill('SIGKILL');
    },
  };
  await pebble.start();
  return pebble;
}
