/**
 * What the registry says about the network at a glance: names bound, names online by mode, and the
 * nodes that asked to be listed on the map. One pass over the names, cached for `maxAgeMs` so
 * scrapes, health checks and map requests together cost one pass per interval.
 */
import { type ListedNode, MAX_LISTED } from '../../shared/records/network.ts';
import type { RouteMode } from '../../shared/records/route.ts';
import type { RegistryStore } from '../registry/store.ts';

export interface RegistrySummary {
  namesBound: number;
  online: Record<RouteMode, number>;
  listed: ListedNode[];
}

export function summariseRegistry(store: RegistryStore, now: number): RegistrySummary {
  const out: RegistrySummary = { namesBound: 0, online: { direct: 0, relay: 0 }, listed: [] };
  for (const entry of store.entries()) {
    if (entry.state.released) continue;
    out.namesBound++;
    const route = entry.route;
    if (!route || route.exp <= now) continue;
    out.online[route.mode === 'direct' ? 'direct' : 'relay']++;
    if (route.listed === true && entry.state.route && out.listed.length < MAX_LISTED)
      out.listed.push({
        name: entry.binding.name,
        binding: entry.state.binding,
        route: entry.state.route,
      });
  }
  out.listed.sort((a, b) => (a.name < b.name ? -1 : 1));
  return out;
}

/** summariseRegistry, remembered for `maxAgeMs`. */
export function cachedSummary(
  store: RegistryStore,
  now: () => number,
  maxAgeMs = 5_000,
): () => RegistrySummary {
  let at = -Infinity;
  let last: RegistrySummary | null = null;
  return () => {
    const t = now();
    if (!last || t - at >= maxAgeMs || t < at) {
      last = summariseRegistry(store, t);
      at = t;
    }
    return last;
  };
}
