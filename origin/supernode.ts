/**
 * A super node: registry API, reachability probe and relay ingress on one HTTP port, the Active
 * Proxy server on its own TCP port. One key signs for all of them: registrar id = relay id = Active
 * Proxy service peer id. Requests that carry x-pc2-node-id are relay traffic from an edge; the rest
 * is the API.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { Id } from '../shared/id.ts';
import { KeyPair } from '../shared/keys.ts';
import {
  API_PREFIX,
  CARD_SERVICES,
  INGRESS_HEADERS,
  probePath,
  type SuperNodeInfo,
  supernodeInfoPath,
} from '../shared/records/api.ts';
import { createDhtApi } from './dht/http-api.ts';
import {
  announceActiveProxyService,
  type BootstrapNode,
  createCard,
  DhtNode,
  publishDidDocument,
} from './dht/index.ts';
import { createIngress, type Ingress } from './ingress/index.ts';
import { limitBody, refuseBody } from './body-limit.ts';
import { createProbeApp } from './probe.ts';
import { type MetricsEndpoint, SuperNodeStatus } from './status.ts';
import { TunnelServer } from './tunnel/server.ts';
import { createRegistry, MAX_PUSH_BODY_BYTES, type Registry } from './registry/index.ts';
import type { PeerOption, RateLimitOptions } from './registry/options.ts';
import {
  createSuperNodeZone,
  type SuperNodeZoneOptions,
  type Zone,
} from './zone/supernode-zone.ts';

import { type Logger, silentLogger } from '../shared/logger.ts';
import {
  boolean,
  checkOptions,
  fn,
  instance,
  integer,
  nested,
  nonEmptyString,
  object,
  optional,
  passedOn,
  type Rules,
  string,
} from '../shared/options.ts';

export type { Logger };

export interface SuperNodeOptions {
  key: KeyPair;
  /** Registry store and other state live under here. */
  dataDir: string;
  /** Public zone of the names, e.g. ela.city: a relayed node's public endpoint is `<name>.<zone>:<publicPort>`. */
  zone: string;
  /** Where browsers reach a name. Default `https://{name}.<zone>`; devnet: `http://{name}.localhost:8080`. */
  publicUrlTemplate?: string;
  /** Edge keys whose relay traffic is accepted. */
  edgeKeys: Id[];
  /** Bind address. Default 0.0.0.0. */
  host?: string;
  /** Registry API + relay ingress. Default 8080; 0 = any free port. */
  apiPort?: number;
  /** Active Proxy. Default 8090; 0 = any free port. */
  tunnelPort?: number;
  /** Other super nodes (replication). */
  peers?: PeerOption[];
  /** Registrars whose bindings are accepted. Default: this node and its peers. */
  trustedRegistrars?: Id[];
  reservedNames?: readonly string[];
  holdPeriodMs?: number;
  /** Admits loopback and private addresses for endpoints and probes (tests, devnet). Default false. */
  developerMode?: boolean;
  /** Proxies (edge addresses) whose X-Forwarded-For is believed by the registry's rate limits. */
  trustedProxies?: string[];
  rateLimits?: Partial<RateLimitOptions> | false;
  /** The Boson DHT node (UDP, same host). Default port 39001; false: no DHT. */
  dht?: false | { port?: number; bootstrap?: BootstrapNode[] };
  /** Address nodes and DHT peers reach this super node at. Default: host, or 127.0.0.1 for 0.0.0.0. */
  publicHost?: string;
  /** The zone's authoritative DNS and replicated zone records (docs/zone.md). Default: none. */
  zoneDns?: SuperNodeZoneOptions;
  /** What health and the network map say it runs, e.g. `pc2 0.1.0`. Default `pc2`. */
  version?: string;
  /** Display name on the network map. Default `sn-<first 8 characters of the id>`. */
  label?: string;
  /** Region label on the network map (free text, e.g. `eu-west`). Default none. */
  region?: string;
  /** Serves the Prometheus text at GET /metrics on the API port, behind a bearer token. Default: not served. */
  metricsEndpoint?: MetricsEndpoint;
  /** How long a relayed request waits for a tunnel stream of its node before 503 NODE_BUSY (the ingress's `streamWaitMs`). Default 30,000 ms. */
  streamWaitMs?: number;
  /** Tunnel connections granted to a pc2 node (the tunnel server's `largePoolConnections`). Default 1024. */
  largePoolConnections?: number;
  logger?: Logger;
}

/** The options the super node reads itself; the rest are checked by the part each is handed to. */
const SUPERNODE_OPTIONS = {
  key: instance(KeyPair),
  dataDir: nonEmptyString,
  zone: nonEmptyString,
  publicUrlTemplate: optional(string),
  edgeKeys: passedOn<Id[]>(),
  host: optional(string),
  apiPort: optional(integer(0, 65535)),
  tunnelPort: passedOn<number | undefined>(),
  peers: passedOn<PeerOption[] | undefined>(),
  trustedRegistrars: passedOn<Id[] | undefined>(),
  reservedNames: passedOn<readonly string[] | undefined>(),
  holdPeriodMs: passedOn<number | undefined>(),
  developerMode: optional(boolean),
  trustedProxies: passedOn<string[] | undefined>(),
  rateLimits: passedOn<SuperNodeOptions['rateLimits']>(),
  dht: optional<SuperNodeOptions['dht']>((value, name) =>
    value === false
      ? false
      : nested({
          port: optional(integer(0, 65535)),
          bootstrap: passedOn<BootstrapNode[] | undefined>(),
        })(value, name),
  ),
  publicHost: optional(string),
  zoneDns: passedOn<SuperNodeZoneOptions | undefined>(),
  version: optional(string),
  label: optional(nonEmptyString),
  region: optional(nonEmptyString),
  metricsEndpoint: optional(
    nested({ token: nonEmptyString, render: fn<MetricsEndpoint['render']>() }),
  ),
  streamWaitMs: passedOn<number | undefined>(),
  largePoolConnections: passedOn<number | undefined>(),
  logger: optional(object<Logger>()),
} satisfies Rules<SuperNodeOptions>;

/** How often the super node re-announces its Active Proxy service and DID document. */
const ANNOUNCE_INTERVAL_MS = 30 * 60_000;

export class SuperNode {
  readonly id: Id;
  readonly registry: Registry;
  readonly tunnel: TunnelServer;
  readonly dht: DhtNode | null;
  readonly zone: Zone | null;
  /** Health, the network map's data and the request counters (origin/status.ts). */
  readonly status: SuperNodeStatus;
  #announceTimer: NodeJS.Timeout | null = null;
  readonly #ingress: Ingress;
  readonly #server: Server;
  readonly #options: SuperNodeOptions;
  readonly #logger: Logger;
  #apiPort = 0;
  readonly #publicUrlTemplate: string;
  readonly #owners = new Map<string, string>();
  #ownersCursor = 0;

  constructor(options: SuperNodeOptions) {
    checkOptions(options, SUPERNODE_OPTIONS, 'SuperNode options');
    this.#options = options;
    const { key, developerMode = false } = options;
    const logger = options.logger ?? silentLogger;
    this.#logger = logger;
    this.id = key.id;
    this.#publicUrlTemplate = options.publicUrlTemplate ?? `https://{name}.${options.zone}`;
    this.registry = createRegistry({
      key,
      trustedRegistrars: options.trustedRegistrars ?? defaultTrust(key, options.peers),
      dataDir: join(options.dataDir, 'registry'),
      peers: options.peers,
      reservedNames: options.reservedNames,
      holdPeriodMs: options.holdPeriodMs,
      developerMode,
      trustedProxies: options.trustedProxies,
      rateLimits: options.rateLimits,
      logger,
    });
    this.tunnel = new TunnelServer({
      key,
      host: options.host ?? '0.0.0.0',
      port: options.tunnelPort ?? 8090,
      ...(options.largePoolConnections === undefined
        ? {}
        : { largePoolConnections: options.largePoolConnections }),
      // Only owners of a name here may hold a tunnel: the relay is not an open proxy.
      accessPolicy: (deviceId) => this.#nameOwnedBy(deviceId) !== null,
      endpointFor: (deviceId) => {
        const name = this.#nameOwnedBy(deviceId);
        const endpoint = name ? publicEndpoint(this.#publicUrlTemplate, name) : '';
        return { endpoint, namedEndpoint: endpoint };
      },
      logger,
    });
    this.dht =
      options.dht === false
        ? null
        : new DhtNode({
            key,
            host: options.host ?? '0.0.0.0',
            port: options.dht?.port ?? 39001,
            bootstrap: options.dht?.bootstrap ?? [],
            dataDir: join(options.dataDir, 'dht'),
            developerMode,
            logger,
          });
    this.#ingress = createIngress({
      tunnel: this.tunnel,
      superNodeId: key.id,
      edgeKeys: options.edgeKeys,
      ...(options.streamWaitMs === undefined ? {} : { streamWaitMs: options.streamWaitMs }),
      logger,
    });
    this.zone = options.zoneDns
      ? createSuperNodeZone(
          {
            zone: options.zone,
            key,
            dataDir: options.dataDir,
            trusted: options.trustedRegistrars ?? defaultTrust(key, options.peers),
            peers: options.peers ?? [],
            logger,
          },
          options.zoneDns,
          this.registry,
        )
      : null;
    this.status = new SuperNodeStatus({
      id: key.id.toString(),
      dataDir: options.dataDir,
      version: options.version ?? 'pc2',
      label: options.label ?? `sn-${key.id.toString().slice(0, 8)}`,
      region: options.region ?? null,
      registry: this.registry,
      tunnel: this.tunnel,
      dht: this.dht,
      dhtBootstrapped: Boolean(options.dht && options.dht.bootstrap?.length),
      zone: this.zone,
      now: () => Date.now(),
    });
    const api = this.#apiApp(developerMode);
    const apiListener = getRequestListener(api.fetch);
    const isRelay = (req: IncomingMessage) => req.headers[INGRESS_HEADERS.nodeId] !== undefined;
    // Resolves and signed writes take the registry's node:http fast path; the rest goes through Hono.
    const fastPath = this.registry.fastPath;
    // Relay traffic streams to the node unbuffered; every API route has its body limit, and none
    // takes more than the largest (a replication push): larger ones are refused before any is read.
    const requests = this.status.requests;
    this.#server = createServer((req, res) => {
      if (isRelay(req)) {
        requests.relay++;
        this.#ingress.handleRequest(req, res);
      } else {
        requests.api++;
        if (refuseBody(req, res, MAX_PUSH_BODY_BYTES)) return;
        if (!fastPath(req, res)) void apiListener(req, res);
      }
    });
    this.#server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      if (isRelay(req)) {
        requests.relay++;
        return this.#ingress.handleRequest(req, res);
      }
      requests.api++;
      if (refuseBody(req, res, MAX_PUSH_BODY_BYTES)) return;
      res.writeContinue();
      apiListener(req, res);
    });
    this.#server.on('upgrade', (req, socket, head) => {
      if (isRelay(req)) {
        requests.relayUpgrades++;
        this.#ingress.handleUpgrade(req, socket, head);
      } else socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
  }

  #apiApp(developerMode: boolean): Hono {
    const probe = createProbeApp({
      admit: (name, jws, budget) => this.registry.service.admitProbe(name, jws, budget),
      budget: (remote, forwardedFor) => this.registry.limits.probe(remote, forwardedFor),
      developerMode,
    });
    const app = new Hono();
    app.get(supernodeInfoPath, limitBody(0), (c) =>
      c.json({
        id: this.id.toString(),
        did: this.id.toDid(),
        activeProxy: { port: this.tunnel.address().port },
        dht: this.dht ? { port: this.dht.address().port } : null,
        publicUrlTemplate: this.#publicUrlTemplate,
      } satisfies SuperNodeInfo),
    );
    app.post(probePath, (c) => probe.fetch(c.req.raw, c.env));
    if (this.dht) {
      const dhtApi = createDhtApi({
        dht: this.dht,
        isKnownOwner: (id) => this.#nameOwnedBy(id) !== null,
      });
      app.all(`${API_PREFIX}/dht/*`, (c) => dhtApi.fetch(c.req.raw));
      app.all(`${API_PREFIX}/nodes/*`, (c) => dhtApi.fetch(c.req.raw));
    }
    if (this.zone) app.route('/', this.zone.app);
    app.route('/', this.status.app(this.#options.metricsEndpoint));
    app.all('*', (c) => this.registry.app.fetch(c.req.raw, c.env));
    return app;
  }

  /**
   * The name (if any) currently bound to this id. An owner -> name index, brought up to date from the
   * store's change cursor only when a lookup misses or finds a stale entry, so a reconnect storm of
   * thousands of AUTHs does not scan every name each time.
   */
  #nameOwnedBy(id: Id): string | null {
    const owner = id.toString();
    const current = (name: string | undefined) => {
      const entry = name === undefined ? undefined : this.registry.store.get(name);
      return entry && !entry.state.released && entry.binding.owner === owner
        ? entry.binding.name
        : null;
    };
    const hit = current(this.#owners.get(owner));
    if (hit) return hit;
    const { entries, cursor } = this.registry.store.changesSince(
      this.#ownersCursor,
      Number.MAX_SAFE_INTEGER,
    );
    this.#ownersCursor = cursor;
    for (const entry of entries)
      if (!entry.state.released) this.#owners.set(entry.binding.owner, entry.binding.name);
    return current(this.#owners.get(owner));
  }

  async start(): Promise<{ apiUrl: string; tunnelPort: number }> {
    await this.tunnel.start();
    const host = this.#options.host ?? '0.0.0.0';
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.apiPort ?? 8080, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#apiPort = (this.#server.address() as AddressInfo).port;
    const apiUrl = `http://${this.publicHost}:${this.#apiPort}`;
    this.status.traffic.start();
    await this.zone?.start();
    if (this.dht) {
      await this.dht.start();
      const announce = () =>
        this.#announce(apiUrl).catch((e: Error) =>
          this.#logger.warn('DHT announce failed', { error: e.message }),
        );
      void announce();
      this.#announceTimer = setInterval(announce, ANNOUNCE_INTERVAL_MS);
      this.#announceTimer.unref();
    }
    return { apiUrl, tunnelPort: this.tunnel.address().port };
  }

  get publicHost(): string {
    const host = this.#options.publicHost ?? this.#options.host ?? '0.0.0.0';
    return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  }

  /** The Active Proxy service as a PeerInfo (found with FIND_PEER), and this super node's DID document. */
  async #announce(apiUrl: string): Promise<void> {
    const dht = this.dht!;
    const { key } = this.#options;
    const port = this.tunnel.address().port;
    await announceActiveProxyService(dht, key, this.publicHost, port, key);
    const card = createCard(key, [
      {
        id: '#activeproxy',
        type: CARD_SERVICES.activeProxy,
        endpoint: `tcp://${this.publicHost}:${port}`,
      },
      { id: '#registry', type: CARD_SERVICES.registry, endpoint: apiUrl },
    ]);
    await publishDidDocument(dht, key, card);
  }

  get apiPort(): number {
    return this.#apiPort;
  }

  async stop(): Promise<void> {
    if (this.#announceTimer) clearInterval(this.#announceTimer);
    this.#ingress.close();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    await this.status.traffic.stop();
    await this.tunnel.stop();
    await this.dht?.stop();
    await this.zone?.stop();
    await this.registry.close();
  }
}

function defaultTrust(key: KeyPair, peers: PeerOption[] | undefined): Id[] {
  return [key.id, ...(peers ?? []).map((p) => Id.parse(p.id))];
}

/** host:port a name is reached at, from a URL template (the AUTH_ACK endpoint). */
function publicEndpoint(template: string, name: string): string {
  const url = new URL(template.replace('{name}', name));
  return `${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`;
}
