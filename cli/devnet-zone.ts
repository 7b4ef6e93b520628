/**
 * `pc2 devnet --zone`: the devnet with its zone. The first super node answers DNS for
 * `pc2.localhost` on a loopback port (`*.pc2.localhost` -> 127.0.0.1, the gateway; browsers and curl
 * resolve every `*.localhost` name to loopback themselves) and, when Debian's pebble is installed,
 * gets the zone certificate from a local pebble by ACME DNS-01 through that DNS; the gateway then
 * serves HTTPS with it, and a private node orders its own certificate the same way. Without pebble the
 * DNS still runs and names are served over plain HTTP, as without --zone.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CertificateManager, CertificatePaths } from '../origin/acme/index.ts';
import type { SuperNode } from '../origin/supernode.ts';
import type { SuperNodeZoneOptions } from '../origin/zone/supernode-zone.ts';
import type { KeyPair } from '../shared/keys.ts';
import type { Logger } from '../shared/logger.ts';
import type { NodeTlsOptions } from '../agent/tls/node-tls.ts';
import { CliError } from './errors.ts';
import { acmeOrder } from './node-tls-flags.ts';
import { hasPebble, type LocalPebble, startLocalPebble } from './pebble.ts';
import { startAcmeFromFlags } from './zone-flags.ts';

export const DEVNET_ZONE = 'pc2.localhost';

/** The zone of the first super node (DNS here, ACME when there is a CA); the second only keeps records. */
export function devnetZoneOptions(
  index: number,
  host: string,
  dnsPort: number,
  acme: boolean,
): SuperNodeZoneOptions {
  return index === 0
    ? { dns: { host, port: dnsPort }, ttlS: 5, gatewayAddresses: [host], rateLimit: false, acme }
    : { dns: null, ttlS: 5, rateLimit: false };
}

export interface DevnetCa {
  pebble: LocalPebble;
  manager: CertificateManager;
  /** The gateway's certificate files (the zone certificate). */
  paths: CertificatePaths;
  /** The root every certificate of this devnet chains to (trust it in curl or a browser). */
  rootFile: string;
  /** What a private node is given to get its own certificate. */
  nodeTls(dir: string): NodeTlsOptions;
  stop(): Promise<void>;
}

/** Why there is no local CA (pebble missing), or null. */
export function caUnavailable(): string | null {
  return hasPebble()
    ? null
    : "pebble is not installed (apt-get install pebble): the zone's DNS runs, but without a local CA names are served over plain HTTP and there is no private node";
}

/** A local pebble validating through the devnet's DNS, and the zone certificate from it. */
export async function startDevnetCa(o: {
  dir: string;
  dnsPort: number;
  superNode: SuperNode;
  key: KeyPair;
  logger: Logger;
}): Promise<DevnetCa> {
  const pebble = await startLocalPebble({
    dir: o.dir,
    dnsServer: `127.0.0.1:${o.dnsPort}`,
    validitySeconds: 7 * 86_400,
  });
  const dataDir = join(o.dir, 'supernode-0');
  const acme = await startAcmeFromFlags(
    {
      acme: true,
      acmeDirectory: pebble.directory,
      acmeAgreeTos: true,
      acmeCaFile: pebble.listenerCaFile,
      acmeRetry: 5,
      dataDir,
    },
    o.superNode,
    o.key,
    o.logger,
  ).catch(async (e) => {
    await pebble.stop();
    throw e;
  });
  if (!acme) throw new CliError('the devnet zone has no ACME manager');
  const installed = await Promise.race([
    acme.manager.whenInstalled().then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), 60_000).unref()),
  ]);
  if (!installed) {
    await acme.manager.stop();
    await pebble.stop();
    throw new CliError(
      'the local pebble issued no zone certificate within 60 s (see --log-level debug)',
    );
  }
  const rootFile = join(o.dir, 'zone-root.pem');
  await writeFile(rootFile, await pebble.issuingRoot());
  const order = acmeOrder(pebble.listenerCaFile);
  return {
    pebble,
    manager: acme.manager,
    paths: acme.paths,
    rootFile,
    nodeTls: (dir) => ({
      order,
      directoryUrl: pebble.directory,
      termsOfServiceAgreed: true,
      dir,
    }),
    async stop() {
      await acme.manager.stop();
      await pebble.stop();
    },
  };
}
