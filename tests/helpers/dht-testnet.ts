/**
 * N real DHT nodes in one process, on 127.0.0.1 with ephemeral ports, developer mode on, sharing one
 * injectable clock. DHT node 0 is the seed; every other node bootstraps from the seed and two random
 * earlier nodes.
 */
import { KeyPair } from '../../shared/keys.ts';
import { DhtNode, type DhtNodeOptions } from '../../origin/dht/index.ts';

export interface TestClock {
  now: () => number;
  advance: (ms: number) => void;
}

export function testClock(start = Date.UTC(2026, 0, 1)): TestClock {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

export interface Testnet {
  nodes: DhtNode[];
  keys: KeyPair[];
  clock: TestClock;
  /** Adds one more node, bootstrapped like the others. */
  add: (options?: Partial<DhtNodeOptions>) => Promise<DhtNode>;
  stop: () => Promise<void>;
}

export interface TestnetOptions {
  /** Nodes started at once. Default 16. */
  batch?: number;
  /** After everyone joined, each node refreshes all its buckets once (closer to a settled network). */
  settle?: boolean;
  nodeOptions?: Partial<DhtNodeOptions>;
  clock?: TestClock;
}

export async function startTestnet(count: number, options: TestnetOptions = {}): Promise<Testnet> {
  const clock = options.clock ?? testClock();
  const nodes: DhtNode[] = [];
  const keys: KeyPair[] = [];
  const base = (key: KeyPair): DhtNodeOptions => ({
    key,
    host: '127.0.0.1',
    port: 0,
    host6: false,
    developerMode: true,
    clock: clock.now,
    maintenanceIntervalMs: 3_600_000,
    // One test process drives many lookups through few nodes; 3.0's 32/s per source would throttle it.
    rateLimitPerSecond: 100_000,
    rateLimitBurst: 100_000,
    ...options.nodeOptions,
  });

  const add = async (extra: Partial<DhtNodeOptions> = {}): Promise<DhtNode> => {
    const key = KeyPair.generate();
    const known = nodes.slice();
    const picks =
      known.length === 0
        ? []
        : [
            known[0],
            ...Array.from({ length: 2 }, () => known[Math.floor(Math.random() * known.length)]),
          ];
    const bootstrap = [...new Set(picks)].map((n) => ({ id: n.id, ...n.address() }));
    const node = new DhtNode({ ...base(key), bootstrap, ...extra });
    await node.start();
    nodes.push(node);
    keys.push(key);
    return node;
  };

  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  };

  try {
    if (count > 0) await add();
    const batch = options.batch ?? 16;
    for (let started = 1; started < count; started += batch) {
      await Promise.all(Array.from({ length: Math.min(batch, count - started) }, () => add()));
    }
    if (options.settle) {
      for (let i = 0; i < nodes.length; i += batch)
        await Promise.all(nodes.slice(i, i + batch).map((n) => n.refreshBuckets(false)));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { nodes, keys, clock, add, stop };
}
