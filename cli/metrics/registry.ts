/**
 * Turns the roles' metric sets (shared/metrics.ts) into one prom-client registry: a Counter or Gauge
 * per definition whose `collect` reads the role's current values at scrape time, plus the process
 * metrics prom-client keeps (CPU, memory, event loop lag, file descriptors) under `pc2_process_`
 * and `pc2_nodejs_`. The roles' collect runs once per scrape, however many metrics it feeds.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { addProcessMetrics } from '../../edge/runtime/node/metrics.ts';
import type { MetricSet, Sample } from '../../shared/metrics.ts';

export interface MetricsRegistryOptions {
  sets: MetricSet[];
  /** Process metrics (CPU, memory, event loop, GC). Default true. */
  processMetrics?: boolean;
}

export function createMetricsRegistry(options: MetricsRegistryOptions): Registry {
  const registry = new Registry();
  if (options.processMetrics !== false) addProcessMetrics(registry);
  for (const set of options.sets) addMetricSet(registry, set);
  return registry;
}

/** Registers every definition of `set` in `registry`, read at scrape time. */
export function addMetricSet(registry: Registry, set: MetricSet): void {
  // One collect per scrape: the first metric asks, the rest of the same turn reuse its answer.
  let current: Record<string, Sample[]> | null = null;
  const samples = (name: string): Sample[] => {
    if (!current) {
      current = set.collect();
      setImmediate(() => (current = null));
    }
    return current[name] ?? [];
  };
  for (const def of set.defs) {
    const config = {
      name: def.name,
      help: def.help,
      labelNames: [...def.labelNames],
      registers: [registry],
    };
    if (def.type === 'counter') {
      new Counter({
        ...config,
        collect() {
          this.reset();
          for (const s of samples(def.name)) this.inc(s.labels, s.value);
        },
      });
    } else {
      new Gauge({
        ...config,
        collect() {
          this.reset();
          for (const s of samples(def.name)) this.set(s.labels, s.value);
        },
      });
    }
  }
}
