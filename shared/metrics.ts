/**
 * Metrics as plain data: each role says which counters and gauges it has (`MetricDef`) and reads
 * their values from the counters its parts already keep (`collect`, called at scrape time). The
 * command that runs the role turns a `MetricSet` into Prometheus exposition (cli/metrics/), so no
 * role depends on a metrics library and nothing is added to a data path to count.
 */

export interface MetricDef {
  /** Prometheus name, `pc2_...`; counters end in `_total`. */
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  labelNames: readonly string[];
}

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export interface MetricSet {
  defs: readonly MetricDef[];
  /** The samples of every def, by name, now. */
  collect(): Record<string, Sample[]>;
}

/** Samples of a `Record<label value, number>` table. */
export function tableSamples(
  table: Record<string, number>,
  label: string,
  extra: Record<string, string> = {},
): Sample[] {
  return Object.entries(table).map(([key, value]) => ({
    labels: { ...extra, [label]: key },
    value,
  }));
}
