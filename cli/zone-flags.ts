/** The `pc2 supernode` flags of the zone (authoritative DNS) and of its certificate (ACME). */
import { join } from 'node:path';
import type { CertificateManager, CertificatePaths } from '../origin/acme/index.ts';
import type { SuperNode } from '../origin/supernode.ts';
import type { SuperNodeZoneOptions } from '../origin/zone/supernode-zone.ts';
import type { KeyPair } from '../shared/keys.ts';
import type { Logger } from '../shared/logger.ts';
import type { CaaRecord } from '../origin/zone/view.ts';
import { CliError } from './errors.ts';
import { hostPortProblem, parseHostPort } from './flags.ts';

export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

export const ZONE_SPEC = {
  dns: {
    kind: 'string',
    value: '<addr:port>',
    description: 'answer DNS for the zone here (UDP and TCP), e.g. 0.0.0.0:53',
    check: hostPortProblem,
  },
  dnsTtl: {
    kind: 'number',
    value: '<seconds>',
    description: 'TTL of the zone records; a dead super node leaves the answers within 2 x TTL',
    default: 30,
    integer: true,
    min: 1,
    max: 86_400,
  },
  nsHost: {
    kind: 'string',
    value: '<host>',
    description:
      "this super node's name server name in the delegation (default ns-<id hex>.<zone>)",
  },
  nsAddress: {
    kind: 'list',
    value: '<ip>',
    description: 'address resolvers reach this name server at (glue; default the --dns address)',
  },
  gatewayAddress: {
    kind: 'list',
    value: '<ip>',
    description:
      'public address of the gateway in front of this super node: the apex and *.<zone> point at it',
  },
  gatewayCheckPort: {
    kind: 'number',
    value: '<port>',
    description: 'list a gateway address only while it accepts TCP on this port (e.g. 443)',
    integer: true,
    min: 1,
    max: 65535,
  },
  caa: {
    kind: 'list',
    value: '"<flags> <tag> <value>"',
    description: "CAA record at the apex (default: the ACME CA when it is Let's Encrypt)",
  },
  dnsRateLimit: {
    kind: 'number',
    value: '<per second>',
    description: 'UDP queries per second per source without a DNS cookie (0: no limit)',
    default: 50,
    min: 0,
  },
  acme: {
    kind: 'boolean',
    description: 'get and renew the zone certificate (*.<zone> and <zone>) by ACME DNS-01',
    default: false,
  },
  acmeDirectory: {
    kind: 'string',
    value: '<url>',
    description: 'ACME directory URL',
    default: LETS_ENCRYPT_DIRECTORY,
    url: ['https:', 'http:'],
  },
  acmeEmail: {
    kind: 'string',
    value: '<address>',
    description: 'contact address for the ACME account',
  },
  acmeAgreeTos: {
    kind: 'boolean',
    description: "agree to the ACME CA's terms of service (required with --acme)",
    default: false,
  },
  acmeCaFile: {
    kind: 'string',
    value: '<file>',
    description: 'extra root certificates (PEM) to trust for the ACME directory (test CAs)',
  },
  acmeRetry: {
    kind: 'number',
    value: '<seconds>',
    description: 'first retry after a failed order; doubles up to 6 hours',
    default: 60,
    min: 1,
  },
} as const;

export interface ZoneFlags {
  dns?: string;
  dnsTtl?: number;
  nsHost?: string;
  nsAddress?: string[];
  gatewayAddress?: string[];
  gatewayCheckPort?: number;
  caa?: string[];
  dnsRateLimit?: number;
  acme?: boolean;
  acmeDirectory?: string;
  acmeEmail?: string;
  acmeAgreeTos?: boolean;
  acmeCaFile?: string;
  acmeRetry?: number;
}

function parseCaa(text: string): CaaRecord {
  const match = /^(\d{1,3})\s+(issue|issuewild|iodef)\s+"?([^"]*)"?$/.exec(text.trim());
  if (!match || Number(match[1]) > 255)
    throw new CliError(`--caa takes "<flags> issue|issuewild|iodef <value>", got "${text}"`, 2);
  return { flags: Number(match[1]), tag: match[2] as CaaRecord['tag'], value: match[3] };
}

/** The zone options of the super node, or undefined without --dns and --acme (no zone). */
export function zoneOptionsFromFlags(
  o: ZoneFlags & { publicHost?: string },
): SuperNodeZoneOptions | undefined {
  if (!o.dns && !o.acme) return undefined;
  if (o.acme && !o.acmeAgreeTos)
    throw new CliError(
      '--acme orders from a CA whose terms you must agree to: add --acme-agree-tos',
      2,
    );
  const dns = o.dns ? parseHostPort(o.dns)! : null;
  const wildcard = dns && (dns.host === '0.0.0.0' || dns.host === '::');
  const ttl = o.dnsTtl ?? 30;
  if (!Number.isInteger(ttl) || ttl < 1)
    throw new CliError('--dns-ttl is a whole number of seconds >= 1', 2);
  let caa = (o.caa ?? []).map(parseCaa);
  if (
    caa.length === 0 &&
    o.acme &&
    (o.acmeDirectory ?? LETS_ENCRYPT_DIRECTORY).includes('api.letsencrypt.org')
  ) {
    caa = [
      { flags: 0, tag: 'issue', value: 'letsencrypt.org' },
      { flags: 0, tag: 'issuewild', value: 'letsencrypt.org' },
    ];
  }
  const rate = o.dnsRateLimit ?? 50;
  if (!(rate >= 0)) throw new CliError('--dns-rate-limit is a number >= 0', 2);
  return {
    dns,
    ttlS: ttl,
    nsHost: o.nsHost,
    // Bound to every address: the glue is the public one, unless given.
    nsAddresses: o.nsAddress?.length
      ? o.nsAddress
      : wildcard && o.publicHost
        ? [o.publicHost]
        : undefined,
    gatewayAddresses: o.gatewayAddress ?? [],
    gatewayCheckPort: o.gatewayCheckPort ?? null,
    caa,
    acme: o.acme ?? false,
    rateLimit: rate === 0 ? false : { perSec: rate, burst: Math.max(rate * 4, 20) },
  };
}

/**
 * With --acme: the certificate manager, writing the zone certificate to --cert/--cert-key, or by
 * default key and chain together to `<data dir>/acme/certificate.pem` (give that one file to the
 * gateway as both --cert and --cert-key: it is replaced in one rename). acme-client is loaded only here.
 */
export async function startAcmeFromFlags(
  o: ZoneFlags & { dataDir: string; cert?: string; certKey?: string },
  node: SuperNode,
  key: KeyPair,
  logger: Logger,
): Promise<{ manager: CertificateManager; paths: CertificatePaths } | null> {
  if (!o.acme || !node.zone) return null;
  const { CertificateManager } = await import('../origin/acme/index.ts');
  const combined = join(o.dataDir, 'acme', 'certificate.pem');
  const paths = o.cert
    ? { certFile: o.cert, keyFile: o.certKey ?? o.cert }
    : { certFile: combined, keyFile: combined };
  const retry = o.acmeRetry ?? 60;
  if (!(retry > 0)) throw new CliError('--acme-retry is a number of seconds > 0', 2);
  let manager: CertificateManager;
  try {
    manager = new CertificateManager({
      zone: node.zone,
      key,
      dataDir: join(o.dataDir, 'acme'),
      paths,
      directoryUrl: o.acmeDirectory ?? LETS_ENCRYPT_DIRECTORY,
      email: o.acmeEmail,
      termsOfServiceAgreed: o.acmeAgreeTos ?? false,
      caFile: o.acmeCaFile,
      retryMinMs: retry * 1000,
      logger,
    });
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
  await manager.start();
  return { manager, paths };
}
