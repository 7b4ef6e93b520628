/**
 * Version thinning on Nextcloud's schedule: keep one version per second for the first 10 s, one per
 * minute for the first hour, one per hour for the first day, one per day for 30 days, one per week after.
 */
const S = 1000;
const BANDS: { until: number; step: number }[] = [
  { until: 10 * S, step: S },
  { until: 3600 * S, step: 60 * S },
  { until: 24 * 3600 * S, step: 3600 * S },
  { until: 30 * 24 * 3600 * S, step: 24 * 3600 * S },
  { until: Infinity, step: 7 * 24 * 3600 * S },
];

/** Given versions newest first, returns the ids to drop (all but the newest of each slot). */
export function thinVersions(
  versions: readonly { id: number; mtime: number }[],
  now: number,
): number[] {
  const seen = new Set<string>();
  const drop: number[] = [];
  for (const v of versions) {
    const age = Math.max(0, now - v.mtime);
    const band = BANDS.findIndex((b) => age < b.until);
    const slot = `${band}:${Math.floor(age / BANDS[band].step)}`;
    if (seen.has(slot)) drop.push(v.id);
    else seen.add(slot);
  }
  return drop;
}
