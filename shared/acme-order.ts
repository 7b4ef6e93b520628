/**
 * One ACME order by DNS-01, as the roles hand it to each other: origin/acme carries it out, the super
 * node for the zone's certificate and the node agent for a private name's (the CLI passes origin's
 * function to the agent, so the tree has one ACME client), and the retry after a failed one.
 */
import type { Logger } from './logger.ts';

export interface AcmeOrderRequest {
  /** The names to certify, the first one the common name. */
  names: string[];
  directoryUrl: string;
  email?: string;
  termsOfServiceAgreed: boolean;
  /** The account key (PEM, 0600); created on the first order. */
  accountKeyFile: string;
  /** Serves these values at the names' `_acme-challenge` on every super node (replacing the previous set). */
  publish(values: string[]): Promise<void>;
  /** Resolves once the zone's name servers answer `value`; throws when they do not in time. */
  waitServed(value: string): Promise<void>;
  logger: Logger;
}

/** A certificate and its key. */
export interface CertificatePair {
  /** PEM chain, leaf first. */
  chain: string;
  /** PEM private key. */
  key: string;
}

export type AcmeOrder = (request: AcmeOrderRequest) => Promise<CertificatePair>;

/** The wait before the next order after `failures` failed ones: doubles from minMs up to maxMs, ±10 %. */
export function orderRetryDelay(failures: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, minMs * 2 ** (failures - 1)) * (0.9 + Math.random() * 0.2);
}
