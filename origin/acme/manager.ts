/**
 * Keeps the zone certificate current on this super node:
 * - installs the newest certificate bundle any super node published (its key opened with ours),
 *   writing the files the gateway reads;
 * - when the certificate is two thirds through its lifetime (or there is none), and it is this super
 *   node's turn, orders a new one and publishes it to every super node. The turn is the live
 *   ACME-enabled super node with the smallest id: one order per renewal, and when that super node
 *   dies the next one takes over as soon as its heartbeat ages out. Should no certificate come while
 *   the current one enters its last sixth (or, with none at all, for `fallbackDelayMs`), every
 *   ACME-enabled super node orders: two orders in a partition are better than an expired certificate.
 * - an order that fails (CA unreachable, validation refused) is retried with exponential backoff;
 *   the old certificate stays in place, and the log says when the next try is and when it expires.
 */
import { join } from 'node:path';
import { orderRetryDelay } from '../../shared/acme-order.ts';
import type { KeyPair } from '../../shared/keys.ts';
import { type Logger, silentLogger } from '../../shared/logger.ts';
import { queryServer, txtValues } from '../zone/dns-client.ts';
import type { Zone } from '../zone/index.ts';
import { openKey, sealToAll } from './bundle.ts';
import {
  certificateFacts,
  certificateProblem,
  type CertificatePaths,
  type InstalledCertificate,
  readCertificate,
  writeCertificate,
  zoneNames,
} from './certificate.ts';
import { configureHttp, orderCertificate, orderError } from './order.ts';

export interface CertificateManagerOptions {
  zone: Zone;
  key: KeyPair;
  /** The ACME account key lives here (`acme-account.key`, 0600). */
  dataDir: string;
  /** Where the certificate is written (and read back at start). */
  paths: CertificatePaths;
  directoryUrl: string;
  email?: string;
  /** The operator agreed to the CA's terms of service; without it nothing is ordered. */
  termsOfServiceAgreed: boolean;
  /** Extra roots (PEM file) trusted for the directory's HTTPS. */
  caFile?: string;
  /** Renew at this fraction of the lifetime. Default 2/3. */
  renewFraction?: number;
  /** Backoff after a failed order: first delay and cap. Default 1 min and 6 h. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** How long the name servers get to serve a challenge value. Default 120 000 ms. */
  challengeWaitMs?: number;
  /** How often the manager looks whether a renewal is due. Default 60 000 ms. */
  checkIntervalMs?: number;
  /**
   * After start, how long to listen for the other super nodes before deciding whose turn it is (so
   * super nodes started together do not all order). Default two heartbeat intervals of the zone.
   */
  settleMs?: number;
  /** With no certificate at all, how long to leave the order to the super node whose turn it is. Default 10 min. */
  fallbackDelayMs?: number;
  /** Timeout of one HTTP call to the CA. Default 30 000 ms. */
  httpTimeoutMs?: number;
  clock?: { now(): number };
  logger?: Logger;
}

const CHALLENGE_LIFETIME_MS = 30 * 60_000;
const KNOWN = new Set([
  'zone',
  'key',
  'dataDir',
  'paths',
  'directoryUrl',
  'email',
  'termsOfServiceAgreed',
  'caFile',
  'renewFraction',
  'retryMinMs',
  'retryMaxMs',
  'challengeWaitMs',
  'checkIntervalMs',
  'settleMs',
  'fallbackDelayMs',
  'httpTimeoutMs',
  'clock',
  'logger',
]);

const iso = (ms: number) => new Date(ms).toISOString();

export class CertificateManager {
  readonly #o: Required<Omit<CertificateManagerOptions, 'email' | 'caFile'>> &
    Pick<CertificateManagerOptions, 'email' | 'caFile'>;
  #installed: InstalledCertificate | null = null;
  #failures = 0;
  #nextTryAt = 0;
  #startedAt = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  readonly #waiting: (() => void)[] = [];
  #stopped = false;
  /** Orders completed and certificates installed, for status and tests. */
  readonly stats = { orders: 0, orderFailures: 0, installs: 0 };

  constructor(options: CertificateManagerOptions) {
    const unknown = Object.keys(options).filter((k) => !KNOWN.has(k));
    if (unknown.length > 0) throw new TypeError(`unknown ACME option(s): ${unknown.join(', ')}`);
    if (!options.termsOfServiceAgreed)
      throw new TypeError(
        'ordering certificates needs the CA terms of service agreed (--acme-agree-tos)',
      );
    const o = {
      renewFraction: 2 / 3,
      retryMinMs: 60_000,
      retryMaxMs: 6 * 3600_000,
      challengeWaitMs: 120_000,
      checkIntervalMs: 60_000,
      fallbackDelayMs: 10 * 60_000,
      httpTimeoutMs: 30_000,
      // Alone (no other super node trusted), there is nobody to listen for.
      settleMs:
        options.zone.options.trusted.length > 1 ? 2 * options.zone.options.heartbeatIntervalMs : 0,
      clock: { now: () => Date.now() },
      logger: silentLogger,
      ...options,
    };
    if (!(o.renewFraction > 0 && o.renewFraction < 1))
      throw new TypeError('ACME option "renewFraction" is between 0 and 1');
    this.#o = o;
    configureHttp(o.caFile, o.httpTimeoutMs);
  }

  get certificate(): InstalledCertificate | null {
    return this.#installed;
  }

  /** Resolves once a certificate is installed (at once if there is one). */
  whenInstalled(): Promise<void> {
    if (this.#installed) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  async start(): Promise<void> {
    this.#startedAt = this.#o.clock.now();
    const onDisk = await readCertificate(this.#o.paths);
    if (
      onDisk &&
      !certificateProblem(onDisk.chain, onDisk.key, this.#o.zone.options.zone, this.#startedAt)
    ) {
      this.#installed = onDisk;
      this.#o.logger.info('zone certificate loaded', {
        expires: iso(onDisk.notAfter),
        renews: iso(this.#renewAt(onDisk)),
      });
    }
    this.#o.zone.onRecord((stored) => {
      if (stored.record.kind === 'certificate') this.poke();
    });
    this.poke();
  }

  /** Looks again now (a bundle arrived, a test moved the clock). */
  poke(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#running = this.#tick()
      .catch((e: Error) =>
        this.#o.logger.error('zone certificate: unexpected error', { error: e.message }),
      )
      .finally(() => {
        this.#running = null;
        if (this.#again) {
          this.#again = false;
          this.poke();
        }
      });
  }

  #renewAt(c: { notBefore: number; notAfter: number }): number {
    return c.notBefore + (c.notAfter - c.notBefore) * this.#o.renewFraction;
  }

  #schedule(at: number): void {
    if (this.#stopped) return;
    const delay = Math.max(0, Math.min(at - this.#o.clock.now(), this.#o.checkIntervalMs));
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.poke(), delay);
    this.#timer.unref?.();
  }

  async #tick(): Promise<void> {
    await this.#adoptBundle();
    await this.#resealIfNeeded();
    const now = this.#o.clock.now();
    const current = this.#installed;
    const due = current ? this.#renewAt(current) : now;
    if (now < due) return this.#schedule(due);
    if (now < this.#startedAt + this.#o.settleMs)
      return this.#schedule(this.#startedAt + this.#o.settleMs);
    if (!this.#myTurn(now)) return this.#schedule(now + this.#o.checkIntervalMs);
    if (now < this.#nextTryAt) return this.#schedule(this.#nextTryAt);
    await this.#order();
    this.#schedule(
      this.#installed && this.#nextTryAt <= this.#o.clock.now()
        ? this.#renewAt(this.#installed)
        : this.#nextTryAt,
    );
  }

  /** The live ACME-enabled super node with the smallest id orders; everyone does once it is late. */
  #myTurn(now: number): boolean {
    const me = this.#o.key.id.toString();
    const turn = this.#o.zone.liveSuperNodes().find((s) => s.acme)?.id;
    if (turn === me || turn === undefined) return true;
    const current = this.#installed;
    const late = current
      ? now >= current.notBefore + ((current.notAfter - current.notBefore) * 5) / 6
      : now - this.#startedAt >= this.#o.fallbackDelayMs;
    if (!late)
      this.#o.logger.debug(
        'zone certificate: renewal is due; the super node whose turn it is orders',
        { turn },
      );
    return late;
  }

  async #order(): Promise<void> {
    const zone = this.#o.zone;
    this.#o.logger.info('zone certificate: ordering', {
      directory: this.#o.directoryUrl,
      names: [zone.options.zone, `*.${zone.options.zone}`],
    });
    try {
      const { chain, key } = await orderCertificate({
        names: zoneNames(zone.options.zone),
        directoryUrl: this.#o.directoryUrl,
        email: this.#o.email,
        termsOfServiceAgreed: this.#o.termsOfServiceAgreed,
        accountKeyFile: join(this.#o.dataDir, 'acme-account.key'),
        publish: async (values) =>
          void (await zone.publishApexChallenge(values, CHALLENGE_LIFETIME_MS)),
        waitServed: (value) => this.#waitServed(value),
        logger: this.#o.logger,
      });
      const problem = certificateProblem(chain, key, zone.options.zone, this.#o.clock.now());
      if (problem) throw new Error(`the CA issued an unusable certificate: ${problem}`);
      const facts = certificateFacts(chain);
      await this.#install({ ...facts, chain, key });
      this.#failures = 0;
      this.#nextTryAt = 0;
      this.stats.orders++;
      await zone.publishCertificate({
        iat: this.#o.clock.now(),
        chain,
        notBefore: facts.notBefore,
        notAfter: facts.notAfter,
        keys: sealToAll(key, this.#o.key, zone.options.trusted),
      });
      this.#o.logger.info('zone certificate issued', {
        serial: facts.serial,
        expires: iso(facts.notAfter),
        renews: iso(this.#renewAt(facts)),
      });
    } catch (e) {
      this.#failures++;
      this.stats.orderFailures++;
      const delay = orderRetryDelay(this.#failures, this.#o.retryMinMs, this.#o.retryMaxMs);
      this.#nextTryAt = this.#o.clock.now() + delay;
      this.#o.logger.warn('zone certificate: order failed; keeping the current certificate', {
        error: orderError(e),
        nextTry: iso(this.#nextTryAt),
        currentExpires: this.#installed ? iso(this.#installed.notAfter) : 'none',
      });
    }
  }

  /** Installs the newest published certificate if it is newer than ours and opens with our key. */
  async #adoptBundle(): Promise<void> {
    const record = this.#o.zone.certificate();
    if (!record) return;
    const bundle = record.payload;
    const current = this.#installed;
    if (
      current &&
      (bundle.notAfter < current.notAfter ||
        (bundle.notAfter === current.notAfter &&
          certificateFacts(bundle.chain).serial === current.serial))
    )
      return;
    const key = openKey(bundle.keys[this.#o.key.id.toString()], this.#o.key, record.signer);
    if (!key) {
      this.#o.logger.warn(
        'zone certificate: a newer certificate was published without a key for this super node',
        { signer: record.signer.toString() },
      );
      return;
    }
    const problem = certificateProblem(
      bundle.chain,
      key,
      this.#o.zone.options.zone,
      this.#o.clock.now(),
    );
    if (problem) {
      this.#o.logger.warn('zone certificate: refused a published certificate', {
        signer: record.signer.toString(),
        problem,
      });
      return;
    }
    const facts = certificateFacts(bundle.chain);
    await this.#install({ ...facts, chain: bundle.chain, key });
    this.#o.logger.info('zone certificate installed', {
      from: record.signer.toString(),
      serial: facts.serial,
      expires: iso(facts.notAfter),
    });
  }

  /**
   * A super node trusted after the certificate was issued has no sealed key for it: the super node
   * whose turn it is publishes the same certificate again, sealed to everyone.
   */
  async #resealIfNeeded(): Promise<void> {
    const record = this.#o.zone.certificate();
    const current = this.#installed;
    if (!record || !current || certificateFacts(record.payload.chain).serial !== current.serial)
      return;
    const zone = this.#o.zone;
    if (zone.liveSuperNodes().find((s) => s.acme)?.id !== this.#o.key.id.toString()) return;
    const missing = zone.options.trusted.filter((id) => !(id.toString() in record.payload.keys));
    if (missing.length === 0) return;
    const { chain, notBefore, notAfter } = record.payload;
    await zone.publishCertificate({
      iat: this.#o.clock.now(),
      chain,
      notBefore,
      notAfter,
      keys: sealToAll(current.key, this.#o.key, zone.options.trusted),
    });
    this.#o.logger.info('zone certificate: sealed the key to super nodes that had none', {
      superNodes: missing.map(String),
    });
  }

  async #install(c: InstalledCertificate): Promise<void> {
    await writeCertificate(this.#o.paths, c.chain, c.key);
    this.#installed = c;
    this.stats.installs++;
    for (const resolve of this.#waiting.splice(0)) resolve();
  }

  /** Until every live name server of the zone answers `value` at `_acme-challenge.<zone>`. */
  async #waitServed(value: string): Promise<void> {
    const zone = this.#o.zone;
    const name = `_acme-challenge.${zone.options.zone}`;
    const deadline = this.#o.clock.now() + this.#o.challengeWaitMs;
    for (;;) {
      const servers = zone.liveNameServers();
      const missing: string[] = [];
      await Promise.all(
        servers.map(async (ns) => {
          const address = ns.addresses[0];
          if (!address) return; // announces no address: resolvers cannot ask it either
          const served = await queryServer(address, ns.port, name, 'TXT', 2_000).then(
            txtValues,
            (): string[] => [],
          );
          if (!served.includes(value)) missing.push(`${ns.host} (${address}:${ns.port})`);
        }),
      );
      if (missing.length === 0) return;
      if (this.#stopped) throw new Error('stopping');
      if (this.#o.clock.now() >= deadline)
        throw new Error(
          `name servers not serving the challenge after ${this.#o.challengeWaitMs} ms: ${missing.join(', ')}`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Stops scheduling; an order under way is given 2 s to finish (acme-client cannot be interrupted). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await Promise.race([this.#running, new Promise((r) => setTimeout(r, 2_000).unref())]);
  }
}
