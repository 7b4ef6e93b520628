/**
 * The zone on a super node: replicated zone records (heartbeats, challenges, the certificate), the
 * authoritative name server built on them, and their HTTP API. `createZone` builds it (the API can
 * be mounted at once), `start` loads the stored records, opens the DNS sockets and starts the
 * heartbeat and the pulls. See docs/zone.md.
 */
import type { Hono } from 'hono';
import { createZoneApp } from './api.ts';
import { Challenges, type PublishResult } from './challenges.ts';
import { DnsServer } from './dns-server.ts';
import { HeartbeatLoop } from './heartbeat.ts';
import { resolveZoneOptions, type ResolvedZoneOptions, type ZoneOptions } from './options.ts';
import {
  CERTIFICATE_KEY,
  type CertificateBundle,
  heartbeatKey,
  signCertificateBundle,
  verifyItem,
  type ZoneRecord,
} from './records.ts';
import { ZoneReplication } from './replication.ts';
import { Responder } from './responder.ts';
import { type StoredRecord, ZoneStore } from './store.ts';
import { buildView, type NameServer, type ZoneView } from './view.ts';

export type { ZoneOptions, ZoneRegistryView } from './options.ts';
export type { CaaRecord, NameServer, ZoneView } from './view.ts';
export type { CertificateBundle } from './records.ts';
export { ZoneError } from './errors.ts';
export { zonePaths } from './replication.ts';

export class Zone {
  readonly options: ResolvedZoneOptions;
  readonly store: ZoneStore;
  readonly replication: ZoneReplication;
  readonly challenges: Challenges;
  readonly responder: Responder;
  readonly app: Hono;
  readonly #heartbeat: HeartbeatLoop;
  #dns: DnsServer | null = null;
  #view: ZoneView | null = null;
  #viewVersion = -1;
  #pruneTimer: ReturnType<typeof setInterval> | null = null;

  constructor(input: ZoneOptions) {
    const o = resolveZoneOptions(input);
    this.options = o;
    this.store = new ZoneStore(o.dataDir, { maxRecords: o.maxRecords, logger: o.logger });
    this.replication = new ZoneReplication(o, this.store);
    this.challenges = new Challenges(o, this.store, (r) => this.commitLocal(r));
    this.#heartbeat = new HeartbeatLoop(o, (r) => this.commitLocal(r));
    this.responder = new Responder({
      view: () => this.view(),
      rateLimit: o.rateLimit,
      slip: o.slip,
      amplificationFactor: o.amplificationFactor,
      now: () => o.clock.now(),
    });
    this.app = createZoneApp({
      options: o,
      store: this.store,
      replication: this.replication,
      challenges: this.challenges,
      status: () => this.status(),
    });
  }

  async start(): Promise<void> {
    const o = this.options;
    await this.store.load({ zone: o.zone, trusted: o.trusted }, o.clock.now());
    if (o.dns && o.nsAddresses.length === 0) {
      o.logger.warn(
        'zone: the name server has no address to give resolvers as glue (bound to every address): set nsAddresses (--ns-address)',
      );
    }
    if (o.dns) {
      this.#dns = new DnsServer({
        host: o.dns.host,
        port: o.dns.port,
        responder: this.responder,
        logger: o.logger,
      });
      await this.#dns.start();
      this.#heartbeat.dnsPort = this.#dns.port;
    }
    await this.#heartbeat.start();
    this.replication.start();
    this.#pruneTimer = setInterval(() => this.store.prune(o.clock.now()), 60_000);
    this.#pruneTimer.unref?.();
  }

  /** Stores a record this super node made (or an owner published here) and pushes it to every peer. */
  async commitLocal(record: ZoneRecord): Promise<string[]> {
    await this.store.put(record, this.options.clock.now(), true);
    const peers = await this.replication.push(record);
    return [this.options.key.id.toString(), ...peers];
  }

  /** What the zone answers now; recomputed when a record changed or a heartbeat or challenge aged out. */
  view(): ZoneView {
    const now = this.options.clock.now();
    if (!this.#view || this.#viewVersion !== this.store.version || now >= this.#view.validUntil) {
      const o = this.options;
      this.#viewVersion = this.store.version;
      const next = buildView(this.store.values(), now, {
        zone: o.zone,
        ttlS: o.ttlS,
        aliveMs: o.ttlS * 1000,
        clockSkewMs: o.clockSkewMs,
        caa: o.caa,
        hostmaster: o.hostmaster,
        currentOwner: (name) => o.registry.currentOwner(name),
      });
      // A heartbeat that changed nothing keeps the view (and so the responder's cache of answers).
      if (this.#view && sameAnswers(this.#view, next)) this.#view.validUntil = next.validUntil;
      else this.#view = next;
    }
    return this.#view;
  }

  /** The live super nodes' name servers (whom a challenge must reach before the CA is asked). */
  liveNameServers(): NameServer[] {
    const view = this.view();
    return view.nameServers.filter((ns) => view.live.has(ns.id));
  }

  /** Live super nodes by id, and whether each takes part in ordering the certificate. */
  liveSuperNodes(): { id: string; acme: boolean }[] {
    return [...this.view().live].sort().map((id) => {
      const record = this.store.get(heartbeatKey(id))?.record;
      return { id, acme: record?.kind === 'heartbeat' && record.payload.acme };
    });
  }

  publishApexChallenge(values: string[], lifetimeMs: number): Promise<PublishResult> {
    return this.challenges.publishApex(values, lifetimeMs);
  }

  /** The newest certificate bundle held, with its signer. */
  certificate(): Extract<ZoneRecord, { kind: 'certificate' }> | null {
    const record = this.store.get(CERTIFICATE_KEY)?.record;
    return record?.kind === 'certificate' ? record : null;
  }

  /** Signs a certificate bundle, stores it and pushes it to every peer. */
  async publishCertificate(bundle: Omit<CertificateBundle, 'v' | 'zone'>): Promise<string[]> {
    const jws = await signCertificateBundle(
      { ...bundle, zone: this.options.zone },
      this.options.key,
    );
    const checked = await verifyItem(
      { jws },
      { zone: this.options.zone, trusted: this.options.trusted },
    );
    if (!checked.ok) throw new Error(`own certificate bundle does not verify: ${checked.reason}`);
    return this.commitLocal(checked.record);
  }

  /** Calls `listener` for every record stored, local or replicated. */
  onRecord(listener: (stored: StoredRecord, local: boolean) => void): void {
    this.store.onChange(listener);
  }

  get dnsPort(): number | null {
    return this.#dns?.port ?? null;
  }

  status(): object {
    const view = this.view();
    return {
      zone: view.zone,
      ttl: view.ttl,
      serial: view.serial,
      live: [...view.live],
      nameServers: view.nameServers,
      gateways: view.gateways,
      challenges: [...view.txt.keys()],
      dns: this.#dns ? { port: this.#dns.port, ...this.responder.stats, ...this.#dns.stats } : null,
      replication: this.replication.stats,
    };
  }

  async stop(): Promise<void> {
    if (this.#pruneTimer) clearInterval(this.#pruneTimer);
    await this.#heartbeat.stop();
    await this.replication.close();
    await this.#dns?.stop();
    await this.store.close();
  }
}

function sameAnswers(a: ZoneView, b: ZoneView): boolean {
  const facts = (v: ZoneView) =>
    JSON.stringify([v.serial, v.nameServers, v.gateways, [...v.txt], [...v.live].sort()]);
  return facts(a) === facts(b);
}
