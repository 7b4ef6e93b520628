/**
 * The node's own certificate for `<name>.<zone>` (a private name), by ACME DNS-01 through the zone's
 * name servers: the `_acme-challenge.<name>.<zone>` values are published at the super nodes with a
 * publication the node's key signs (docs/zone.md, "Owners' challenges"), so nobody else can answer
 * for the name. Kept in one file (key and chain, 0600, replaced by a rename), renewed at two thirds of
 * its lifetime, retried with backoff when an order fails (the certificate in use stays), and handed
 * to the terminator on every change.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { KeyPair } from '../../shared/keys.ts';
import type { Logger } from '../../shared/logger.ts';
import { zoneChallengePath } from '../../shared/records/api.ts';
import { signChallenge } from '../../shared/records/challenge.ts';
import { AgentError } from '../errors.ts';
import { type AcmeOrder, type CertificatePair, orderRetryDelay } from '../../shared/acme-order.ts';

export type { AcmeOrder };

export interface NodeCertificateSettings {
  order: AcmeOrder;
  directoryUrl: string;
  email?: string;
  termsOfServiceAgreed: boolean;
  /** `certificate.pem` and `acme-account.key` live here (both 0600). */
  dir: string;
  renewFraction: number;
  retryMinMs: number;
  retryMaxMs: number;
}

export interface InstalledPair extends CertificatePair {
  notBefore: number;
  notAfter: number;
}

/** How long a published challenge value is served. */
const CHALLENGE_LIFETIME_MS = 30 * 60_000;
/** Longest sleep between two looks at the clock (timers cap near 24.8 days anyway). */
const MAX_SLEEP_MS = 3600_000;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const PEM_KEY =
  /-----BEGIN (?:EC |RSA )?PRIVATE KEY-----[\s\S]+?-----END (?:EC |RSA )?PRIVATE KEY-----/;
const iso = (ms: number) => new Date(ms).toISOString();

/** The pair if it is usable for `host` at `now`: the leaf names it, is valid, and matches the key. */
export function checkPair(
  pair: CertificatePair,
  host: string,
  now: number,
): InstalledPair | string {
  try {
    const pems = pair.chain.match(PEM_CERT);
    if (!pems) return 'no certificate in the chain';
    const leaf = new X509Certificate(pems[0]);
    if (!leaf.checkHost(host, { wildcards: false })) return `the certificate is not for ${host}`;
    const notAfter = Date.parse(leaf.validTo);
    if (notAfter <= now) return 'the certificate has expired';
    const fromKey = createPublicKey(createPrivateKey(pair.key)).export({
      type: 'spki',
      format: 'der',
    });
    if (!leaf.publicKey.export({ type: 'spki', format: 'der' }).equals(fromKey))
      return 'the key does not belong to the certificate';
    return { ...pair, notBefore: Date.parse(leaf.validFrom), notAfter };
  } catch (e) {
    return `unreadable certificate or key: ${(e as Error).message}`;
  }
}

export class NodeCertificate {
  readonly #s: NodeCertificateSettings;
  readonly #host: string;
  readonly #zone: string;
  readonly #name: string;
  readonly #key: KeyPair;
  readonly #superNodes: string[];
  readonly #onChange: (pair: InstalledPair) => void;
  readonly #logger: Logger;
  readonly #now: () => number;
  #installed: InstalledPair | null = null;
  #failures = 0;
  #seq = 0;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  /** Orders completed and failed, for status and tests. */
  readonly stats = { orders: 0, orderFailures: 0 };

  constructor(init: {
    settings: NodeCertificateSettings;
    name: string;
    zone: string;
    key: KeyPair;
    superNodes: string[];
    onChange(pair: InstalledPair): void;
    logger: Logger;
    now: () => number;
  }) {
    this.#s = init.settings;
    this.#name = init.name;
    this.#zone = init.zone;
    this.#host = `${init.name}.${init.zone}`;
    this.#key = init.key;
    this.#superNodes = init.superNodes;
    this.#onChange = init.onChange;
    this.#logger = init.logger;
    this.#now = init.now;
  }

  get host(): string {
    return this.#host;
  }

  get certificate(): InstalledPair | null {
    return this.#installed;
  }

  get #file(): string {
    return join(this.#s.dir, 'certificate.pem');
  }

  /**
   * Loads the certificate on disk when it is usable, else orders one now (throws AgentError
   * CERTIFICATE_FAILED when that fails: the node has no name to serve yet); then keeps it current.
   */
  async start(): Promise<InstalledPair> {
    await mkdir(this.#s.dir, { recursive: true, mode: 0o700 });
    const onDisk = await this.#read();
    if (onDisk) {
      this.#install(onDisk);
      this.#logger.info('node certificate loaded', {
        host: this.#host,
        expires: iso(onDisk.notAfter),
      });
    } else {
      try {
        await this.#order();
      } catch (e) {
        throw new AgentError(
          'CERTIFICATE_FAILED',
          `no certificate for ${this.#host} from ${this.#s.directoryUrl}: ${(e as Error).message}`,
        );
      }
    }
    this.#schedule();
    return this.#installed!;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  #renewAt(c: InstalledPair): number {
    return c.notBefore + (c.notAfter - c.notBefore) * this.#s.renewFraction;
  }

  #schedule(at = this.#renewAt(this.#installed!)): void {
    if (this.#stopped) return;
    const delay = Math.max(0, Math.min(at - this.#now(), MAX_SLEEP_MS));
    this.#timer = setTimeout(() => void this.#tick(at), delay);
    this.#timer.unref();
  }

  async #tick(at: number): Promise<void> {
    if (this.#stopped) return;
    if (this.#now() < at) return this.#schedule(at);
    try {
      await this.#order();
      this.#schedule();
    } catch (e) {
      this.#failures++;
      this.stats.orderFailures++;
      const delay = orderRetryDelay(this.#failures, this.#s.retryMinMs, this.#s.retryMaxMs);
      const next = this.#now() + delay;
      this.#logger.warn('node certificate: renewal failed; keeping the current certificate', {
        error: (e as Error).message,
        nextTry: iso(next),
        currentExpires: this.#installed ? iso(this.#installed.notAfter) : 'none',
      });
      this.#schedule(next);
    }
  }

  async #order(): Promise<void> {
    this.#logger.info('node certificate: ordering', {
      host: this.#host,
      directory: this.#s.directoryUrl,
    });
    const pair = await this.#s.order({
      names: [this.#host],
      directoryUrl: this.#s.directoryUrl,
      email: this.#s.email,
      termsOfServiceAgreed: this.#s.termsOfServiceAgreed,
      accountKeyFile: join(this.#s.dir, 'acme-account.key'),
      publish: (values) => this.#publish(values),
      // publish() returns once every super node stored the values (and pushed them on).
      waitServed: async () => {},
      logger: this.#logger,
    });
    const checked = checkPair(pair, this.#host, this.#now());
    if (typeof checked === 'string')
      throw new Error(`the CA issued an unusable certificate: ${checked}`);
    await this.#write(checked);
    this.#install(checked);
    this.#failures = 0;
    this.stats.orders++;
    this.#logger.info('node certificate issued', {
      host: this.#host,
      expires: iso(checked.notAfter),
      renews: iso(this.#renewAt(checked)),
    });
  }

  #install(pair: InstalledPair): void {
    this.#installed = pair;
    this.#onChange(pair);
  }

  /** Signs the values (an empty list withdraws them) and publishes them at every super node. */
  async #publish(values: string[]): Promise<void> {
    const iat = this.#now();
    this.#seq = Math.max(iat, this.#seq + 1);
    const challenge = await signChallenge(
      {
        zone: this.#zone,
        name: this.#name,
        values,
        seq: this.#seq,
        iat,
        exp: iat + CHALLENGE_LIFETIME_MS,
      },
      this.#key,
    );
    const results = await Promise.allSettled(
      this.#superNodes.map(async (url) => {
        const res = await fetch(url + zoneChallengePath(this.#name), {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ challenge }),
          signal: AbortSignal.timeout(30_000),
        });
        const text = await res.text();
        if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${text.slice(0, 200)}`);
      }),
    );
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    if (failed.length === results.length)
      throw new Error(
        `no super node published the challenge: ${failed.map((f) => f.reason?.message).join('; ')}`,
      );
    for (const f of failed)
      this.#logger.warn('node certificate: a super node did not take the challenge', {
        error: (f.reason as Error)?.message,
      });
  }

  async #read(): Promise<InstalledPair | null> {
    try {
      const text = await readFile(this.#file, 'utf8');
      const chain = (text.match(PEM_CERT) ?? []).join('\n');
      const key = text.match(PEM_KEY)?.[0];
      if (!chain || !key) return null;
      const checked = checkPair({ chain, key }, this.#host, this.#now());
      return typeof checked === 'string' ? null : checked;
    } catch {
      return null;
    }
  }

  /** Key and chain in one file: written aside, fsync'd, then renamed over the old one. */
  async #write(pair: CertificatePair): Promise<void> {
    await mkdir(dirname(this.#file), { recursive: true, mode: 0o700 });
    const temp = `${this.#file}.${process.pid}.tmp`;
    const handle = await open(temp, 'w', 0o600);
    try {
      await handle.writeFile(
        `${pair.key.match(PEM_KEY)?.[0] ?? pair.key.trim()}\n${pair.chain.trim()}\n`,
      );
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, this.#file);
  }
}
