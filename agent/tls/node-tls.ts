/**
 * A private name on the node's side: its certificate (certificate.ts) and its TLS terminator
 * (terminator.ts) together. The node agent starts it after the name is claimed (the challenge
 * publications need the binding) and before the first route record says `tls: "node"`.
 */
import type { KeyPair } from '../../shared/keys.ts';
import type { Logger } from '../../shared/logger.ts';
import {
  atLeast,
  checkOptions,
  fn,
  integer,
  nested,
  nonEmptyString,
  optional,
  type Rules,
  rule,
  string,
  withDefault,
} from '../../shared/options.ts';
import { AgentError } from '../errors.ts';
import { type AcmeOrder, NodeCertificate } from './certificate.ts';
import { TlsTerminator, type TerminatorStats } from './terminator.ts';

export interface NodeTlsOptions {
  /** One ACME order by DNS-01 (`pc2 node` hands in origin/acme's, configured for the directory). */
  order: AcmeOrder;
  /** The ACME directory, e.g. Let's Encrypt's. */
  directoryUrl: string;
  email?: string;
  /** The node owner agreed to the CA's terms of service; required. */
  termsOfServiceAgreed: boolean;
  /** Where the certificate and the ACME account key are kept (0600 each). */
  dir: string;
  /**
   * Where the TLS terminator listens. Default 127.0.0.1 on any free port: relayed streams reach it
   * through the tunnel. A direct node listens on its public TLS port, the one of its https endpoint.
   */
  listen?: { host: string; port: number };
  /** Renew at this fraction of the lifetime. Default 2/3. */
  renewFraction?: number;
  /** Backoff after a failed renewal: first delay and cap, ms. Default 60 000 and 6 h. */
  retryMinMs?: number;
  retryMaxMs?: number;
}

const NODE_TLS_OPTIONS = {
  order: fn<AcmeOrder>(),
  directoryUrl: rule<string>((v) => typeof v === 'string' && URL.canParse(v), 'a URL'),
  email: optional(string),
  termsOfServiceAgreed: rule<boolean>(
    (v) => v === true,
    "true: ordering certificates needs the CA's terms of service agreed (--acme-agree-tos)",
  ),
  dir: nonEmptyString,
  listen: withDefault(nested({ host: nonEmptyString, port: integer(0, 65535) }), {
    host: '127.0.0.1',
    port: 0,
  }),
  renewFraction: withDefault(
    rule<number>((v) => typeof v === 'number' && v > 0 && v < 1, 'between 0 and 1'),
    2 / 3,
  ),
  retryMinMs: withDefault(atLeast(1), 60_000),
  retryMaxMs: withDefault(atLeast(1), 6 * 3600_000),
} satisfies Rules<NodeTlsOptions>;

export interface NodeTlsStatus {
  /** The name the certificate is for, `<name>.<zone>`. */
  host: string | null;
  /** Expiry of the certificate in use, ms since the epoch. */
  expires: number | null;
  terminator: TerminatorStats;
}

export class NodeTls {
  readonly #o: ReturnType<typeof checkNodeTlsOptions>;
  readonly #key: KeyPair;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #terminator: TlsTerminator;
  #certificate: NodeCertificate | null = null;
  /** Where decrypted connections go (the agent's entry); set by start(). */
  #upstream = { host: '127.0.0.1', port: 0 };

  constructor(options: NodeTlsOptions, deps: { key: KeyPair; logger: Logger; now(): number }) {
    this.#o = checkNodeTlsOptions(options);
    this.#key = deps.key;
    this.#logger = deps.logger;
    this.#now = deps.now;
    this.#terminator = new TlsTerminator(() => this.#upstream);
  }

  /** Gets the certificate (from disk or the CA), then listens. Throws AgentError CERTIFICATE_FAILED. */
  async start(at: {
    name: string;
    zone: string;
    superNodes: string[];
    upstream: { host: string; port: number };
  }): Promise<void> {
    const { name, zone, superNodes } = at;
    this.#upstream = at.upstream;
    let listening = false;
    this.#certificate = new NodeCertificate({
      settings: this.#o,
      name,
      zone,
      key: this.#key,
      superNodes,
      logger: this.#logger,
      now: this.#now,
      // Renewals are swapped in; the first pair is the one the terminator starts with.
      onChange: (pair) => {
        if (listening) this.#terminator.setCertificate(pair);
      },
    });
    const pair = await this.#certificate.start();
    const { host, port } = this.#o.listen;
    const bound = await this.#terminator.listen(host, port, pair);
    listening = true;
    this.#logger.info('TLS terminator listening', { host: bound.address, port: bound.port });
  }

  /** Where the tunnel client sends raw TLS streams (loopback when the terminator binds every address). */
  get tunnelTarget(): { host: string; port: number } {
    const address = this.#terminator.address();
    if (!address) throw new AgentError('INVALID_OPTIONS', 'the TLS terminator is not listening');
    const host =
      address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
    return { host, port: address.port };
  }

  status(): NodeTlsStatus {
    return {
      host: this.#certificate?.host ?? null,
      expires: this.#certificate?.certificate?.notAfter ?? null,
      terminator: { ...this.#terminator.stats },
    };
  }

  async stop(): Promise<void> {
    this.#certificate?.stop();
    await this.#terminator.close();
  }
}

function checkNodeTlsOptions(options: NodeTlsOptions) {
  return checkOptions(
    options,
    NODE_TLS_OPTIONS,
    'NodeAgent tls options',
    (message) => new AgentError('INVALID_OPTIONS', message),
  );
}
