export { DhtNode, REPUBLISH_AFTER_MS, type NodeLookupResult } from './dht-node.ts';
export { type DhtNodeOptions, type BootstrapNode, type Logger } from './options.ts';
export { DhtError, type DhtErrorCode } from './errors.ts';
export { type DhtCountersSnapshot, type DropReason } from './counters.ts';
export { STORAGE_EXPIRY_MS } from './storage.ts';
export {
  announceActiveProxyService,
  findActiveProxyService,
  publishDidDocument,
  resolveDidDocument,
} from './services.ts';
export { createCard, encodeCard, decodeCard, type Card } from '../../shared/dht/card.ts';
