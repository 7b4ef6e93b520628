/**
 * The node agent: everything a PC2 node runs to be online at https://<name>.<zone>.
 * Claims (or confirms) its name, picks direct or relay mode, keeps a tunnel to every
 * super node, and publishes a signed route record listing the super nodes that hold a live tunnel,
 * at once when that set changes and otherwise at half the lease.
 */
import { EventEmitter } from 'node:events';
import { Id } from '../shared/id.ts';
import { KeyPair } from '../shared/keys.ts';
import type { RouteMode } from '../shared/records/route.ts';
import { TunnelClient } from './tunnel/client.ts';
import { AgentError } from './errors.ts';
import { RegistryClient } from './registry-client.ts';
import { CARD_SERVICES } from '../shared/records/api.ts';
import {
  fetchSuperNodeInfo,
  probeEndpoint,
  publishNodeCard,
  waitForBinding,
} from './supernode-api.ts';

export type AgentMode = 'auto' | 'direct' | 'relay';
export type LinkState =
  | 'unknown'
  | 'unreachable'
  | 'connecting'
  | 'online'
  | 'reconnecting'
  | 'failed';

import { type Logger, silentLogger } from '../shared/logger.ts';
import {
  atLeast,
  type Checked,
  checkOptions,
  instance,
  nonEmptyString,
  object,
  oneOf,
  optional,
  type Rules,
  rule,
  string,
  withDefault,
} from '../shared/options.ts';

export type { Logger };

export interface NodeAgentOptions {
  key: KeyPair;
  name: string;
  /** The local app, e.g. http://127.0.0.1:4200. */
  upstream: string;
  /** Super node API URLs, primary first. */
  superNodes: string[];
  /** Default 'auto': direct only if a super node can reach `publicUrl`. */
  mode?: AgentMode;
  /** The node's own public http(s) URL, if it has one (direct mode). */
  publicUrl?: string;
  /** Route record lease. Default 10 min. */
  leaseMs?: number;
  clock?: { now(): number };
  logger?: Logger;
}

export interface LinkStatus {
  url: string;
  id: string | null;
  state: LinkState;
  detail?: string;
}

export interface AgentStatus {
  name: string;
  mode: RouteMode | null;
  publicUrl: string | null;
  online: boolean;
  lastPublished: number | null;
  superNodes: LinkStatus[];
}

interface Link extends LinkStatus {
  registry: RegistryClient;
  tunnel: TunnelClient | null;
  publicUrlTemplate?: string;
}

/** An http:// URL: the node's upstream. */
const httpUrl = rule<string>(
  (v) => typeof v === 'string' && URL.canParse(v) && new URL(v).protocol === 'http:',
  'an http:// URL',
);

const AGENT_OPTIONS = {
  key: instance(KeyPair),
  name: nonEmptyString,
  upstream: httpUrl,
  superNodes: rule<string[]>(
    (v) => Array.isArray(v) && v.length > 0 && v.every((u) => typeof u === 'string'),
    'a non-empty list of super node URLs',
  ),
  mode: withDefault(oneOf<AgentMode>('auto', 'direct', 'relay'), 'auto'),
  publicUrl: optional(string),
  leaseMs: withDefault(atLeast(1), 10 * 60_000),
  clock: withDefault(object<{ now(): number }>(), { now: () => Date.now() }),
  logger: withDefault(object<Logger>(), silentLogger),
} satisfies Rules<NodeAgentOptions>;

export class NodeAgent extends EventEmitter {
  readonly #o: Checked<typeof AGENT_OPTIONS>;
  readonly #links: Link[];
  readonly #upstream: { host: string; port: number };
  #mode: RouteMode | null = null;
  #lastPublished: number | null = null;
  #online = false;
  #renewTimer: NodeJS.Timeout | null = null;
  #publishing: Promise<void> = Promise.resolve();
  #publishQueued = false;
  #stopped = false;
  /** Aborted by stop(): ends waits that would otherwise outlive the agent. */
  readonly #stopping = new AbortController();

  constructor(options: NodeAgentOptions) {
    super();
    this.#o = checkOptions(
      options,
      AGENT_OPTIONS,
      'NodeAgent options',
      (message) => new AgentError('INVALID_OPTIONS', message),
    );
    if (this.#o.mode === 'direct' && !this.#o.publicUrl)
      throw new AgentError('INVALID_OPTIONS', 'direct mode needs a public URL');
    const upstream = new URL(this.#o.upstream);
    this.#upstream = { host: upstream.hostname, port: Number(upstream.port || 80) };
    this.#links = this.#o.superNodes.map((url) => ({
      url: url.replace(/\/+$/, ''),
      id: null,
      state: 'unknown' as LinkState,
      registry: new RegistryClient({ url, key: options.key, clock: this.#o.clock }),
      tunnel: null,
    }));
  }

  status(): AgentStatus {
    const template = this.#links.find((l) => l.publicUrlTemplate)?.publicUrlTemplate;
    return {
      name: this.#o.name,
      mode: this.#mode,
      publicUrl: template ? template.replace('{name}', this.#o.name) : null,
      online: this.#online,
      lastPublished: this.#lastPublished,
      superNodes: this.#links.map(({ url, id, state, detail }) => ({ url, id, state, detail })),
    };
  }

  async start(): Promise<AgentStatus> {
    await Promise.all(this.#links.map((link) => this.#discover(link)));
    const reachable = this.#links.filter((l) => l.id);
    if (!reachable.length)
      throw new AgentError(
        'NO_SUPERNODE',
        `no super node answered: ${this.#links.map((l) => `${l.url} (${l.detail})`).join(', ')}`,
      );
    await this.#claim(reachable);
    this.#mode = await this.#chooseMode(reachable[0]);
    this.#o.logger.info('mode chosen', { mode: this.#mode });
    if (this.#mode === 'relay') {
      for (const link of this.#links) this.#openTunnel(link);
    } else {
      await this.#publish();
    }
    this.#renewTimer = setInterval(
      () => this.#schedulePublish(),
      Math.max(1000, this.#o.leaseMs / 2),
    );
    this.#renewTimer.unref();
    this.#changed();
    return this.status();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopping.abort();
    if (this.#renewTimer) clearInterval(this.#renewTimer);
    for (const link of this.#links) link.tunnel?.stop();
    await this.#publishing.catch(() => {});
  }

  async #discover(link: Link): Promise<void> {
    try {
      const info = await fetchSuperNodeInfo(link.url);
      link.id = info.id;
      link.publicUrlTemplate = info.publicUrlTemplate;
      link.state = 'connecting';
    } catch (e) {
      link.state = 'unreachable';
      link.detail = (e as Error).message;
    }
  }

  async #claim(links: Link[]): Promise<void> {
    const errors: string[] = [];
    for (const link of links) {
      try {
        const result = await link.registry.claim(this.#o.name);
        this.#o.logger.info(result.created ? 'name claimed' : 'name already ours', {
          name: this.#o.name,
          at: link.url,
        });
        return;
      } catch (e) {
        if (
          e instanceof AgentError &&
          (e.code === 'NAME_TAKEN' ||
            e.code === 'NAME_HELD' ||
            e.code === 'RESERVED_NAME' ||
            e.code === 'INVALID_NAME')
        ) {
          throw new AgentError(
            e.code === 'NAME_TAKEN' || e.code === 'NAME_HELD' ? 'NAME_TAKEN' : 'CLAIM_FAILED',
            `cannot claim "${this.#o.name}": ${e.message}`,
          );
        }
        errors.push(`${link.url}: ${(e as Error).message}`);
      }
    }
    throw new AgentError('CLAIM_FAILED', `no super node accepted the claim: ${errors.join('; ')}`);
  }

  async #chooseMode(link: Link): Promise<RouteMode> {
    if (this.#o.mode === 'relay' || !this.#o.publicUrl) return 'relay';
    if (this.#o.mode === 'direct') return 'direct';
    const result = await probeEndpoint(link.registry, this.#o.name, this.#o.publicUrl).catch(
      (e: Error) => ({
        reachable: false,
        error: e.message,
      }),
    );
    this.#o.logger.info('reachability probe', { endpoint: this.#o.publicUrl, ...result });
    return result.reachable ? 'direct' : 'relay';
  }

  #openTunnel(link: Link): void {
    if (!link.id || this.#stopped) return;
    const id = Id.parse(link.id);
    const start = async () => {
      // The super node admits tunnels only for names it knows; replication may still be on its way.
      await waitForBinding(
        link.registry,
        this.#o.name,
        this.#o.key.id,
        15_000,
        this.#stopping.signal,
      ).catch(() => {});
      if (this.#stopped) return;
      const tunnel = new TunnelClient({
        serverHost: new URL(link.url).hostname,
        serverPort: (await fetchSuperNodeInfo(link.url)).activeProxy.port,
        servicePeerId: id,
        deviceKey: this.#o.key,
        upstream: this.#upstream,
      });
      link.tunnel = tunnel;
      tunnel.on('state', (state: string) => {
        const next: LinkState =
          state === 'authenticated'
            ? 'online'
            : state === 'reconnecting'
              ? 'reconnecting'
              : state === 'failed'
                ? 'failed'
                : 'connecting';
        if (next === link.state) return;
        link.state = next;
        link.detail = state === 'failed' ? tunnel.lastError?.message : undefined;
        this.#schedulePublish();
        this.#changed();
      });
      tunnel.start();
    };
    start().catch((e: Error) => {
      link.state = 'unreachable';
      link.detail = e.message;
      this.#changed();
      setTimeout(() => this.#openTunnel(link), 5000).unref();
    });
  }

  /** Coalesces publish requests: one in flight, at most one queued. */
  #schedulePublish(): void {
    if (this.#stopped || this.#publishQueued) return;
    this.#publishQueued = true;
    this.#publishing = this.#publishing.then(() => {
      this.#publishQueued = false;
      return this.#publish();
    });
  }

  async #publish(): Promise<void> {
    if (this.#stopped || !this.#mode) return;
    const relays = this.#links.filter((l) => l.state === 'online' && l.id).map((l) => l.id!);
    if (this.#mode === 'relay' && relays.length === 0) {
      this.#setOnline(false);
      return;
    }
    const route =
      this.#mode === 'direct'
        ? {
            name: this.#o.name,
            mode: 'direct' as const,
            endpoint: this.#o.publicUrl,
            relays: [],
            ttlMs: this.#o.leaseMs,
          }
        : { name: this.#o.name, mode: 'relay' as const, relays, ttlMs: this.#o.leaseMs };
    const links = this.#links.filter((l) => l.id);
    // One signed record, the same at every super node.
    const jws = await links[0].registry.signRouteRecord(route);
    const results = await Promise.allSettled(
      links.map((l) => l.registry.publishSignedRoute(route.name, jws)),
    );
    const accepted = results.filter((r) => r.status === 'fulfilled').length;
    if (accepted > 0) {
      this.#lastPublished = this.#o.clock.now();
      this.#setOnline(true);
      void this.#publishCard(jws);
    } else {
      this.#o.logger.warn('no super node accepted the route', {
        errors: results.map((r) => (r as PromiseRejectedResult).reason?.message),
      });
    }
  }

  /** The DID document in the DHT (via a super node): public URL and current route. Best effort. */
  async #publishCard(routeJws: string): Promise<void> {
    const services: { id: string; type: string; endpoint: string }[] = [
      { id: '#route', type: CARD_SERVICES.route, endpoint: routeJws },
    ];
    const publicUrl = this.status().publicUrl;
    if (publicUrl) services.unshift({ id: '#pc2', type: CARD_SERVICES.node, endpoint: publicUrl });
    for (const link of this.#links.filter((l) => l.state === 'online' || this.#mode === 'direct')) {
      try {
        await publishNodeCard(link.url, this.#o.key, services);
        this.#o.logger.debug('DID document stored in the DHT', { via: link.url });
        return;
      } catch (e) {
        this.#o.logger.debug('DID document not stored', {
          via: link.url,
          error: (e as Error).message,
        });
      }
    }
  }

  #setOnline(online: boolean): void {
    if (this.#online === online) return;
    this.#online = online;
    this.#changed();
  }

  #changed(): void {
    this.emit('status', this.status());
  }
}
