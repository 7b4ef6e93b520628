/**
 * Debian's pebble (the RFC 8555 test CA) on loopback, for `pc2 devnet --zone` (and the tests): its
 * HTTPS listener gets a certificate from a throwaway CA made with openssl (trusted by the ACME client
 * through `listenerCaFile`); its DNS-01 checks go to the given name server; certificates live
 * `validitySeconds`. The certificates it issues chain to a root it makes at each start (`issuingRoot`).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { Agent, request } from 'undici';

export interface LocalPebble {
  directory: string;
  /** The CA of pebble's own HTTPS listener (not of the certificates it issues). */
  listenerCaFile: string;
  /** The root the certificates issued since the last start chain to. */
  issuingRoot(): Promise<string>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Whether pebble and openssl are on PATH. */
export function hasPebble(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v pebble && command -v openssl'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

function listenerCertificate(dir: string): { ca: string; cert: string; key: string } {
  const [ca, caKey, cert, key, csr, ext] = [
    'ca.pem',
    'ca.key',
    'listener.pem',
    'listener.key',
    'listener.csr',
    'listener.ext',
  ].map((f) => join(dir, `pebble-${f}`));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl([
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
    '/CN=pebble listener CA',
  ]);
  openssl(['req', ...ec, '-keyout', key, '-out', csr, '-subj', '/CN=localhost']);
  writeFileSync(ext, 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl([
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
  ]);
  return { ca, cert, key };
}

/** A loopback port free now (pebble takes its ports from its config file). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export async function startLocalPebble(options: {
  dir: string;
  /** host:port of the name server pebble's DNS-01 checks ask. */
  dnsServer: string;
  validitySeconds: number;
}): Promise<LocalPebble> {
  const listener = listenerCertificate(options.dir);
  const port = await freePort();
  const managementPort = await freePort();
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
  let child: ChildProcess | null = null;
  const pebble: LocalPebble = {
    directory: `https://127.0.0.1:${port}/dir`,
    listenerCaFile: listener.ca,
    async issuingRoot() {
      const res = await request(`https://127.0.0.1:${managementPort}/roots/0`, { dispatcher });
      return res.body.text();
    },
    start() {
      const proc = spawn(
        'pebble',
        ['-config', config, '-dnsserver', options.dnsServer, '-strict=false'],
        {
          // No random pauses before validating (pebble's default mimics a slow CA).
          env: { ...process.env, PEBBLE_VA_NOSLEEP: '1' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      child = proc;
      return new Promise((resolve, reject) => {
        let output = '';
        const timer = setTimeout(
          () => reject(new Error(`pebble did not start:\n${output}`)),
          20_000,
        );
        const onData = (d: Buffer) => {
          output += d;
          if (/Listening on: 127\.0\.0\.1:\d+/.test(output)) {
            clearTimeout(timer);
            resolve();
          }
        };
        proc.stdout!.on('data', onData);
        proc.stderr!.on('data', onData);
        proc.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`pebble exited (${code}):\n${output}`));
        });
      });
    },
    async stop() {
      const proc = child;
      child = null;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    },
  };
  await pebble.start();
  return pebble;
}
