/** The zone as a super node runs it: its key, data directory, trust and peers are the registry's. */
import { join } from 'node:path';
import type { Id } from '../../shared/id.ts';
import type { KeyPair } from '../../shared/keys.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Registry } from '../registry/index.ts';
import type { ZoneOptions, ZoneRegistryView } from './options.ts';
import { Zone } from './index.ts';

export { Zone };

/** What a super node's operator sets; the rest comes from the super node. */
export type SuperNodeZoneOptions = Omit<
  ZoneOptions,
  'zone' | 'key' | 'dataDir' | 'trusted' | 'peers' | 'registry' | 'logger'
>;

export function registryView(registry: Registry): ZoneRegistryView {
  return {
    currentOwner(name) {
      const entry = registry.store.get(name);
      if (!entry) return undefined;
      return entry.state.released ? null : entry.binding.owner;
    },
    binding(name) {
      const entry = registry.store.get(name);
      return entry && !entry.state.released ? entry.state.binding : undefined;
    },
  };
}

export function createSuperNodeZone(
  base: {
    zone: string;
    key: KeyPair;
    dataDir: string;
    trusted: Id[];
    peers: { id: string; url: string }[];
    logger: Logger;
  },
  options: SuperNodeZoneOptions,
  registry: Registry,
): Zone {
  return new Zone({
    ...options,
    ...base,
    dataDir: join(base.dataDir, 'zone'),
    registry: registryView(registry),
  });
}
