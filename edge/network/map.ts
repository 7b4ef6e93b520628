/**
 * The network map the gateway serves at the apex: every configured super node is asked for its
 * report (GET /api/v1/network) at most every `refreshMs`, and the answers are merged. Each super
 * node keeps only its own traffic history (what it relayed); the sums are the network's, since a
 * relayed request crosses exactly one super node. Names online come from the replicated registry, so
 * the largest count wins rather than a sum. A node appears by name only if its owner-signed route
 * record says `listed: true`, checked here against the trusted registrars like any route.
 * Web APIs only.
 */
import {
  MAX_LISTED,
  networkPath,
  type NetworkMap,
  type SuperNodeReport,
} from '../../shared/records/network.ts';
import { verifyResolution } from '../../shared/records/route.ts';
import type { ParsedEdgeConfig } from '../config.ts';
import { checkReport, sumSeries } from './reports.ts';

/** Largest report body read from a super node. */
const MAX_REPORT_BYTES = 4 * 1024 * 1024;

export interface NetworkMapOptions {
  /** How long a merged map is reused, ms. Default 15 000. */
  refreshMs?: number;
  /** Longest wait for one super node's report, ms. Default 3 000. */
  timeoutMs?: number;
}

export class NetworkMapSource {
  readonly #config: ParsedEdgeConfig;
  readonly #refreshMs: number;
  readonly #timeoutMs: number;
  #cached: { at: number; origin: string; map: NetworkMap } | null = null;
  #pending: Promise<NetworkMap> | null = null;
  /** Listing checks already done, by the records' text: a refresh re-checks only what changed. */
  #verified = new Map<string, { mode: 'direct' | 'relay'; exp: number } | null>();

  constructor(config: ParsedEdgeConfig, options: NetworkMapOptions = {}) {
    this.#config = config;
    this.#refreshMs = options.refreshMs ?? 15_000;
    this.#timeoutMs = options.timeoutMs ?? 3_000;
  }

  /** The map, for node URLs under `origin` (the apex as the visitor reached it, e.g. https://ela.city). */
  get(origin: string): Promise<NetworkMap> {
    const now = this.#config.now();
    const c = this.#cached;
    if (c && c.origin === origin && now - c.at < this.#refreshMs && now >= c.at)
      return Promise.resolve(c.map);
    this.#pending ??= this.#build(origin).then(
      (map) => {
        this.#cached = { at: this.#config.now(), origin, map };
        this.#pending = null;
        return map;
      },
      (e) => {
        this.#pending = null;
        throw e;
      },
    );
    return this.#pending;
  }

  async #fetchReport(id: string, url: string): Promise<SuperNodeReport | string> {
    try {
      const res = await this.#config.fetch(url + networkPath, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => {});
        return `HTTP ${res.status}`;
      }
      if (Number(res.headers.get('content-length') ?? 0) > MAX_REPORT_BYTES) {
        await res.body?.cancel().catch(() => {});
        return 'report too large';
      }
      const text = await res.text();
      if (text.length > MAX_REPORT_BYTES) return 'report too large';
      return checkReport(JSON.parse(text), id);
    } catch (e) {
      return (e as Error).message;
    }
  }

  async #build(origin: string): Promise<NetworkMap> {
    const config = this.#config;
    const answers = await Promise.all(
      config.superNodes.map((s) => this.#fetchReport(s.id.toString(), s.url)),
    );
    const now = config.now();
    const reports = answers.filter((a): a is SuperNodeReport => typeof a !== 'string');
    const superNodes = config.superNodes.map((s, i) => {
      const r = answers[i];
      const id = s.id.toString();
      if (typeof r === 'string')
        return {
          id,
          label: `sn-${id.slice(0, 8)}`,
          region: null,
          up: false,
          fit: null,
          uptimeS: null,
          version: null,
          tunnelSessions: null,
        };
      return {
        id,
        label: r.label,
        region: r.region,
        up: true,
        fit: r.fit,
        uptimeS: Math.max(0, Math.round((r.time - r.startedAt) / 1000)),
        version: r.version,
        tunnelSessions: r.tunnelSessions,
      };
    });
    const estimates = reports
      .map((r) => r.dhtSizeEstimate)
      .filter((e): e is number => e !== null)
      .sort((a, b) => a - b);
    const nowS = Math.floor(now / 1000);
    return {
      v: 1,
      zone: config.zone,
      generatedAt: now,
      superNodes,
      nodesOnline: {
        direct: Math.max(0, ...reports.map((r) => r.nodesOnline.direct)),
        relay: Math.max(0, ...reports.map((r) => r.nodesOnline.relay)),
      },
      dhtSizeEstimate: estimates.length ? estimates[Math.floor(estimates.length / 2)] : null,
      listed: await this.#listed(reports, origin, now),
      hour: sumSeries(
        reports.map((r) => r.hour),
        60,
        nowS - 61 * 60,
      ),
      day: sumSeries(
        reports.map((r) => r.day),
        900,
        nowS - 97 * 900,
      ),
    };
  }

  /** The listed nodes whose records verify and say `listed: true`, once per name, by name. */
  async #listed(reports: SuperNodeReport[], origin: string, now: number) {
    const byName = new Map<string, { binding: string; route: string }>();
    for (const r of reports)
      for (const l of r.listed) if (!byName.has(l.name)) byName.set(l.name, l);
    const url = new URL(origin);
    const out: NetworkMap['listed'] = [];
    const verified = new Map<string, { mode: 'direct' | 'relay'; exp: number } | null>();
    for (const [name, l] of [...byName].slice(0, MAX_LISTED)) {
      const key = `${name} ${l.binding} ${l.route}`;
      let listing = this.#verified.get(key);
      if (listing === undefined) {
        const checked = await verifyResolution(
          { name, binding: l.binding, route: l.route },
          this.#config.registrars,
          now,
        );
        const route =
          checked.ok && checked.value.state === 'online' ? checked.value.route.route : null;
        listing = route?.listed === true ? { mode: route.mode, exp: route.exp } : null;
      }
      verified.set(key, listing);
      if (listing && listing.exp > now)
        out.push({ name, mode: listing.mode, url: `${url.protocol}//${name}.${url.host}` });
    }
    this.#verified = verified;
    return out.sort((a, b) => (a.name < b.name ? -1 : 1));
  }
}
