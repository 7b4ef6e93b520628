/**
 * The node agent: everything a PC2 node runs to be online at https://<name>.<zone>, until stopped.
 * Claims (or confirms) its name, picks direct or relay mode, keeps a tunnel to every super node
 * (relay), and publishes a signed route record at every super node: at once when the set of live
 * tunnels changes, at half the lease otherwise, and again every `retryMs` while no super node takes
 * it, so a super node that restarts gets the record back as soon as it answers. It checks its app
 * every `appCheckMs`. Every request passes its entry (entry.ts). Stopping withdraws the route (a
 * record whose lease ends at once), so visitors see "offline" rather than a dead endpoint.
 *
 * Events: `status` (AgentStatus, on every change), `request` (RequestRecord, from the entry).
 */
import { EventEmitter } from 'node:events';
import { Id } from '../shared/id.ts';
import type { RouteMode } from '../shared/records/route.ts';
import type { Logger } from '../shared/logger.ts';
import { type Checked, checkOptions } from '../shared/options.ts';
import { AGENT_OPTIONS, type NodeAgentOptions } from './agent-options.ts';
import { appDownMessage, checkApp } from './app-health.ts';
import type { AgentMode, AgentStatus, SuperNodeStatus } from './agent-status.ts';
import { NodeEntry } from './entry.ts';
import { AgentError } from './errors.ts';
import { type PublishRouteInput, RegistryClient } from './registry-client.ts';
import { RouteLease } from './route-lease.ts';
import { RequestLog } from './request-log.ts';
import {
  fetchSuperNodeInfo,
  probeEndpoint,
  publishNodeCardVia,
  waitForBinding,
} from './supernode-api.ts';
import { NodeTls } from './tls/node-tls.ts';
import { TunnelClient } from './tunnel/client.ts';

export type { AgentMode, AgentStatus, Logger, NodeAgentOptions };

interface Link extends SuperNodeStatus {
  client: RegistryClient;
  tunnelClient: TunnelClient | null;
  publicUrlTemplate?: string;
  /** Bytes of tunnel clients given up on (failed), so the metrics' counters never go back. */
  bytesBefore: { sent: number; received: number };
}

export class NodeAgent extends EventEmitter {
  readonly #o: Checked<typeof AGENT_OPTIONS>;
  readonly #links: Link[];
  readonly requests: RequestLog;
  readonly #entry: NodeEntry;
  #mode: RouteMode | null = null;
  #state: AgentStatus['state'] = 'starting';
  readonly #lease: RouteLease;
  #app: AgentStatus['app'];
  #listen: string | null = null;
  readonly #timers = new Set<NodeJS.Timeout>();
  #appTimer: NodeJS.Timeout | null = null;
  #stopped = false;
  /** A private name's certificate and TLS terminator (options.tls), else null. */
  readonly #tls: NodeTls | null;
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
    if (this.#o.listen && !this.#o.publicUrl)
      throw new AgentError(
        'INVALID_OPTIONS',
        'listen is for direct mode: give the public URL that leads to it',
      );
    if (this.#o.tls && this.#o.publicUrl && !this.#o.publicUrl.startsWith('https://'))
      throw new AgentError('INVALID_OPTIONS', 'a node that terminates TLS has an https public URL');
    if (this.#o.tls && this.#o.listen)
      throw new AgentError(
        'INVALID_OPTIONS',
        'a node that terminates TLS listens with its terminator (tls.listen), not listen',
      );
    this.#tls = this.#o.tls
      ? new NodeTls(this.#o.tls, {
          key: this.#o.key,
          logger: this.#o.logger,
          now: () => this.#o.clock.now(),
        })
      : null;
    const upstream = new URL(this.#o.upstream);
    this.#app = { url: upstream.origin, state: 'unknown', checkedAt: null };
    this.requests = new RequestLog(this.#o.requestLogSize);
    this.requests.on('request', (r) => this.emit('request', r));
    this.#entry = new NodeEntry({ upstream, hostHeader: this.#o.hostHeader, log: this.requests });
    this.#links = this.#o.superNodes.map((url) => ({
      url: url.replace(/\/+$/, ''),
      id: null,
      registry: 'unknown',
      tunnel: 'not used',
      client: new RegistryClient({ url, key: this.#o.key, clock: this.#o.clock }),
      tunnelClient: null,
      bytesBefore: { sent: 0, received: 0 },
    }));
    this.#lease = new RouteLease({
      leaseMs: this.#o.leaseMs,
      retryMs: this.#o.retryMs,
      clock: this.#o.clock,
      logger: this.#o.logger,
      route: (ttlMs) => this.#route(ttlMs),
      targets: () => this.#links.filter((l) => l.id),
      published: (jws) => void this.#publishCard(jws),
      changed: () => this.#updateState(),
    });
  }

  status(): AgentStatus {
    const template = this.#links.find((l) => l.publicUrlTemplate)?.publicUrlTemplate;
    return {
      name: this.#o.name,
      publicUrl: template ? template.replace('{name}', this.#o.name) : null,
      mode: this.#mode,
      state: this.#state,
      online: this.#state === 'online',
      publishedAt: this.#lease.publishedAt,
      expiresAt: this.#lease.expiresAt,
      ...(this.#lease.error ? { routeError: this.#lease.error } : {}),
      app: { ...this.#app },
      superNodes: this.#links.map(({ url, id, registry, tunnel, detail }) => ({
        url,
        id,
        registry,
        tunnel,
        ...(detail ? { detail } : {}),
      })),
      listen: this.#listen,
      ...(this.#tls ? { tls: this.#tls.status() } : {}),
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
    if (this.#o.listen) {
      const port = await this.#entry
        .listen(this.#o.listen.host, this.#o.listen.port, 'direct')
        .catch((e: Error) => {
          throw new AgentError(
            'INVALID_OPTIONS',
            `cannot listen on ${this.#o.listen!.host}:${this.#o.listen!.port}: ${e.message}`,
          );
        });
      this.#listen = `${this.#o.listen.host}:${port}`;
    }
    if (this.#tls) await this.#startTls(reachable);
    this.#mode = await this.#chooseMode(reachable[0]);
    this.#o.logger.info('mode chosen', { mode: this.#mode });
    if (this.#mode === 'direct' && !this.#o.listen && !this.#tls)
      this.#o.logger.warn(
        'direct mode without --listen: requests go straight to the public URL, past the agent (no request list, and a stopped app looks offline)',
      );
    if (this.#mode === 'relay') for (const link of this.#links) link.tunnel = 'down';
    await this.#checkApp();
    this.#appTimer = setInterval(() => void this.#checkApp(), this.#o.appCheckMs);
    this.#appTimer.unref();
    for (const link of this.#links) {
      if (link.id) this.#linkReady(link);
      else this.#later(() => this.#rediscover(link), this.#o.retryMs);
    }
    if (this.#mode === 'direct') await this.#lease.publish();
    this.#changed();
    return this.status();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stopping.abort();
    for (const t of this.#timers) clearTimeout(t);
    if (this.#appTimer) clearInterval(this.#appTimer);
    await this.#lease.stop();
    await Promise.all(this.#links.map((l) => l.tunnelClient?.stop()));
    await this.#tls?.stop();
    await this.#entry.close();
    this.#state = 'stopped';
    for (const l of this.#links) if (l.tunnel !== 'not used') l.tunnel = 'down';
    this.#changed();
  }

  /**
   * The certificate for `<name>.<zone>` (the zone from the super node's public URL template), then
   * the terminator, whose decrypted requests go through the entry like any other.
   */
  async #startTls(links: Link[]): Promise<void> {
    const template = links.find((l) => l.publicUrlTemplate)?.publicUrlTemplate;
    const host = template ? new URL(template.replace('{name}', this.#o.name)).hostname : '';
    if (!host.startsWith(`${this.#o.name}.`))
      throw new AgentError('INVALID_OPTIONS', `no super node says where ${this.#o.name} is served`);
    const port = await this.#entry.listen('127.0.0.1', 0, 'tls', true);
    await this.#tls!.start({
      name: this.#o.name,
      zone: host.slice(this.#o.name.length + 1),
      superNodes: links.map((l) => l.url),
      upstream: { host: '127.0.0.1', port },
    });
  }

  /** A one-shot timer that stop() clears. */
  #later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (!this.#stopped) fn();
    }, ms);
    t.unref();
    this.#timers.add(t);
  }

  async #discover(link: Link): Promise<void> {
    try {
      const info = await fetchSuperNodeInfo(link.url);
      link.id = info.id;
      link.publicUrlTemplate = info.publicUrlTemplate;
      link.registry = 'up';
      link.detail = undefined;
    } catch (e) {
      link.registry = 'down';
      link.detail = (e as Error).message;
    }
  }

  /** A super node that did not answer at start is asked again until it does. */
  async #rediscover(link: Link): Promise<void> {
    await this.#discover(link);
    if (this.#stopped) return;
    if (!link.id) return this.#later(() => this.#rediscover(link), this.#o.retryMs);
    this.#o.logger.info('super node answers', { url: link.url });
    this.#linkReady(link);
    this.#changed();
  }

  /** A discovered super node: relay mode opens its tunnel; either mode publishes to it. */
  #linkReady(link: Link): void {
    if (this.#mode === 'relay') this.#openTunnel(link);
    else this.#lease.schedule();
  }

  async #claim(links: Link[]): Promise<void> {
    const errors: string[] = [];
    for (const link of links) {
      try {
        const result = await link.client.claim(this.#o.name);
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
            e.code === 'INVALID_NAME' ? 'INVALID_NAME' : 'NAME_TAKEN',
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
    const result = await probeEndpoint(link.client, this.#o.name, this.#o.publicUrl).catch(
      (e: Error) => ({
        reachable: false,
        error: e.message,
      }),
    );
    this.#o.logger.info('reachability probe', { endpoint: this.#o.publicUrl, ...result });
    return result.reachable ? 'direct' : 'relay';
  }

  async #checkApp(): Promise<void> {
    const health = await checkApp(new URL(this.#o.upstream), this.#o.appTimeoutMs, () =>
      this.#o.clock.now(),
    );
    if (this.#stopped) return;
    const { state: before, detail: detailBefore } = this.#app;
    const detail = health.up ? undefined : health.detail;
    this.#app = {
      url: this.#app.url,
      state: health.up ? 'up' : 'down',
      checkedAt: health.checkedAt,
      ...(detail ? { detail } : {}),
    };
    if (before === this.#app.state && detail === detailBefore) return;
    if (!health.up) this.#o.logger.warn(appDownMessage(this.#app.url, health.detail));
    else if (before === 'down') this.#o.logger.info(`app answering again at ${this.#app.url}`);
    this.#changed();
  }

  #openTunnel(link: Link): void {
    if (!link.id || this.#stopped) return;
    const id = Id.parse(link.id);
    link.tunnel = 'connecting';
    const start = async () => {
      // The super node admits tunnels only for names it knows; replication may still be on its way.
      await waitForBinding(
        link.client,
        this.#o.name,
        this.#o.key.id,
        15_000,
        this.#stopping.signal,
      ).catch(() => {});
      if (this.#stopped) return;
      const tunnel = new TunnelClient({
        serverHost: new URL(link.url).hostname.replace(/^\[|\]$/g, ''),
        serverPort: (await fetchSuperNodeInfo(link.url)).activeProxy.port,
        servicePeerId: id,
        deviceKey: this.#o.key,
        openUpstream: (onData) => this.#entry.open(`relay ${new URL(link.url).host}`, onData),
        // A private name: visitors' TLS streams go to the terminator, and nothing else is taken.
        ...(this.#tls ? { tlsUpstream: this.#tls.tunnelTarget, tlsOnly: true } : {}),
        // A super node that restarts is found again within seconds, not a minute.
        backoff: { maxDelayMs: Math.max(1000, Math.min(15_000, this.#o.retryMs * 3)) },
      });
      if (this.#stopped) return;
      link.tunnelClient = tunnel;
      tunnel.on('state', (state: string) => {
        const next =
          state === 'authenticated' ? 'up' : state === 'connecting' ? 'connecting' : 'down';
        const detail =
          state === 'failed' || state === 'reconnecting' ? tunnel.lastError?.message : undefined;
        if (next === link.tunnel && detail === link.detail) return;
        const wasUp = link.tunnel === 'up';
        link.tunnel = next;
        link.detail = detail;
        if (wasUp !== (next === 'up')) {
          this.#o.logger.info(next === 'up' ? 'tunnel up' : 'tunnel down', {
            url: link.url,
            ...(detail ? { detail } : {}),
          });
          this.#lease.schedule();
        }
        if (state === 'failed') {
          const { sent, received } = tunnel.bytes();
          link.bytesBefore.sent += sent;
          link.bytesBefore.received += received;
          link.tunnelClient = null;
          this.#later(() => this.#openTunnel(link), this.#o.retryMs * 6);
        }
        this.#changed();
      });
      tunnel.start();
    };
    start().catch((e: Error) => {
      link.tunnel = 'down';
      link.detail = e.message;
      this.#changed();
      this.#later(() => this.#openTunnel(link), this.#o.retryMs);
    });
  }

  /**
   * The route to sign: direct to the public URL, or through the super nodes holding a live tunnel.
   * A withdrawal (a short lease) of a relayed node whose tunnels are gone names one super node, as a
   * relay record must name one.
   */
  #route(ttlMs: number): PublishRouteInput | string {
    const route = {
      name: this.#o.name,
      ttlMs,
      listed: this.#o.listOnMap,
      ...(this.#tls ? { tls: 'node' as const } : {}),
    };
    if (this.#mode === 'direct')
      return { ...route, mode: 'direct', endpoint: this.#o.publicUrl, relays: [] };
    let relays = this.#links.filter((l) => l.tunnel === 'up' && l.id).map((l) => l.id!);
    if (!relays.length && ttlMs < this.#o.leaseMs)
      relays = this.#links
        .filter((l) => l.id)
        .map((l) => l.id!)
        .slice(0, 1);
    return relays.length ? { ...route, mode: 'relay', relays } : 'no tunnel is up';
  }

  /** The DID document in the DHT (via a super node): public URL and current route. Best effort. */
  async #publishCard(routeJws: string): Promise<void> {
    const via = this.#links.filter((l) => l.tunnel === 'up' || (this.#mode === 'direct' && l.id));
    const { key, logger } = this.#o;
    await publishNodeCardVia(
      via.map((l) => l.url),
      key,
      routeJws,
      this.status().publicUrl,
      logger,
    );
  }

  /** online: a live lease (and a tunnel up, relayed); a timer notices the lease running out. */
  #updateState(): void {
    if (this.#stopped) return;
    const now = this.#o.clock.now();
    const { expiresAt, publishedAt, error } = this.#lease;
    const live = expiresAt !== null && expiresAt > now;
    const tunnels = this.#mode !== 'relay' || this.#links.some((l) => l.tunnel === 'up');
    this.#state = live && tunnels ? 'online' : publishedAt || error ? 'offline' : 'starting';
    if (live) this.#later(() => this.#updateState(), expiresAt! - now + 10);
    this.#changed();
  }

  #changed(): void {
    this.emit('status', this.status());
  }

  /** Each super node's tunnel as the metrics read it: connections and bytes each way. */
  tunnels(): { url: string; connections: number; bytesSent: number; bytesReceived: number }[] {
    return this.#links.map(({ url, tunnelClient, bytesBefore }) => {
      const bytes = tunnelClient?.bytes() ?? { sent: 0, received: 0 };
      return {
        url,
        connections: tunnelClient?.stats().connections ?? 0,
        bytesSent: bytesBefore.sent + bytes.sent,
        bytesReceived: bytesBefore.received + bytes.received,
      };
    });
  }
}
