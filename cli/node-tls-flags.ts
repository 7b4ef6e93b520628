/**
 * The `pc2 node` flags of a private name: the node terminates its visitors' TLS with its own
 * certificate for `<name>.<zone>`, ordered by ACME DNS-01 through the zone (docs/zone.md).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { NodeTlsOptions } from '../agent/tls/node-tls.ts';
import { CliError, EXIT } from './errors.ts';
import { hostPortProblem, parseHostPort } from './flags.ts';
import { LETS_ENCRYPT_DIRECTORY, ZONE_SPEC } from './zone-flags.ts';

export const NODE_TLS_SPEC = {
  tls: {
    kind: 'boolean',
    description:
      'terminate TLS on this node with its own certificate (a private name: gateways and super nodes pass it through undecrypted)',
    default: false,
  },
  tlsListen: {
    kind: 'string',
    value: '<addr:port>',
    description:
      "where this node's TLS listens: loopback for a relayed node; a direct node's public TLS port (its --public-url https port)",
    default: '127.0.0.1:0',
    check: hostPortProblem,
  },
  tlsDir: {
    kind: 'string',
    value: '<dir>',
    description: "the node's certificate and ACME account key (0600)",
    default: join(homedir(), '.pc2', 'tls'),
  },
  // The same ACME flags as the super node's.
  acmeDirectory: ZONE_SPEC.acmeDirectory,
  acmeEmail: ZONE_SPEC.acmeEmail,
  acmeAgreeTos: {
    kind: 'boolean',
    description: "agree to the ACME CA's terms of service (required with --tls)",
    default: false,
  },
  acmeCaFile: ZONE_SPEC.acmeCaFile,
} as const;

export interface NodeTlsFlags {
  tls?: boolean;
  tlsListen?: string;
  tlsDir?: string;
  acmeDirectory?: string;
  acmeEmail?: string;
  acmeAgreeTos?: boolean;
  acmeCaFile?: string;
}

/** The agent's tls options, or undefined without --tls. */
export function nodeTlsFromFlags(o: NodeTlsFlags): NodeTlsOptions | undefined {
  if (!o.tls) return undefined;
  if (!o.acmeAgreeTos)
    throw new CliError(
      '--tls orders a certificate from a CA whose terms you must agree to: add --acme-agree-tos',
      EXIT.USAGE,
    );
  return {
    order: acmeOrder(o.acmeCaFile),
    directoryUrl: o.acmeDirectory ?? LETS_ENCRYPT_DIRECTORY,
    email: o.acmeEmail,
    termsOfServiceAgreed: true,
    dir: o.tlsDir ?? join(homedir(), '.pc2', 'tls'),
    listen: parseHostPort(o.tlsListen ?? '127.0.0.1:0')!,
  };
}

/**
 * origin/acme's order, handed to the agent: one ACME client in the tree, and acme-client's HTTP
 * settings (process-wide) made once, here. acme-client is loaded at the first order only.
 */
export function acmeOrder(caFile: string | undefined): NodeTlsOptions['order'] {
  let acme: Promise<typeof import('../origin/acme/index.ts')> | undefined;
  return async (request) => {
    acme ??= import('../origin/acme/index.ts').then((m) => {
      m.configureHttp(caFile, 30_000);
      return m;
    });
    return (await acme).orderCertificate(request);
  };
}
