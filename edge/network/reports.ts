/**
 * A super node's network report as the edge accepts it: every field checked (types, bounds, bucket
 * alignment), so a super node that answers garbage, or too much, is shown as down rather than
 * breaking the map. Web APIs only. Never throws.
 */
import {
  type ListedNode,
  MAX_LISTED,
  MAX_SERIES_POINTS,
  SERIES_FIELDS,
  type SuperNodeReport,
  type TrafficSeries,
} from '../../shared/records/network.ts';

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;

function checkSeries(value: unknown, stepS: number): TrafficSeries | string {
  const s = value as TrafficSeries;
  if (!s || typeof s !== 'object' || s.stepS !== stepS) return `series step is not ${stepS} s`;
  const n = Array.isArray(s.t) ? s.t.length : -1;
  if (n < 0 || n > MAX_SERIES_POINTS) return 'series has too many points';
  for (const key of ['t', 'seconds', ...SERIES_FIELDS] as const) {
    const list = s[key];
    if (!Array.isArray(list) || list.length !== n || !list.every(isCount))
      return `series ${key} is not ${n} non-negative numbers`;
  }
  if (!s.t.every((t) => Number.isSafeInteger(t) && t % stepS === 0))
    return 'series buckets are not aligned';
  return {
    stepS,
    t: s.t,
    seconds: s.seconds,
    bytesToNodes: s.bytesToNodes,
    bytesFromNodes: s.bytesFromNodes,
    relayRequests: s.relayRequests,
    apiRequests: s.apiRequests,
  };
}

function checkListed(value: unknown): ListedNode[] | string {
  if (!Array.isArray(value) || value.length > MAX_LISTED) return 'listed is not a short list';
  const out: ListedNode[] = [];
  for (const item of value as ListedNode[]) {
    if (
      !item ||
      !isText(item.name, 63) ||
      !isText(item.binding, 16_384) ||
      !isText(item.route, 16_384)
    )
      return 'listed entries are {name, binding, route}';
    out.push({ name: item.name, binding: item.binding, route: item.route });
  }
  return out;
}

/** The report, or why it was refused. `id` is the super node asked: the report must be its own. */
export function checkReport(value: unknown, id: string): SuperNodeReport | string {
  const r = value as SuperNodeReport;
  if (!r || typeof r !== 'object' || r.v !== 1) return 'not a version 1 report';
  if (r.id !== id) return 'the report is of another super node';
  if (!isText(r.label, 100) || (r.region !== null && !isText(r.region, 100)))
    return 'bad label or region';
  if (!isText(r.version, 100)) return 'bad version';
  if (!isCount(r.startedAt) || !isCount(r.time) || typeof r.fit !== 'boolean') return 'bad times';
  const online = r.nodesOnline;
  if (!online || !isCount(online.direct) || !isCount(online.relay)) return 'bad nodesOnline';
  if (!isCount(r.namesBound) || !isCount(r.tunnelSessions)) return 'bad counts';
  if (r.dhtSizeEstimate !== null && !isCount(r.dhtSizeEstimate)) return 'bad dhtSizeEstimate';
  const listed = checkListed(r.listed);
  if (typeof listed === 'string') return listed;
  const hour = checkSeries(r.hour, 60);
  if (typeof hour === 'string') return hour;
  const day = checkSeries(r.day, 900);
  if (typeof day === 'string') return day;
  return {
    v: 1,
    id,
    label: r.label,
    region: r.region,
    version: r.version,
    startedAt: r.startedAt,
    time: r.time,
    fit: r.fit,
    nodesOnline: { direct: online.direct, relay: online.relay },
    namesBound: r.namesBound,
    tunnelSessions: r.tunnelSessions,
    dhtSizeEstimate: r.dhtSizeEstimate,
    listed,
    hour,
    day,
  };
}

/** The series of several super nodes summed bucket by bucket (buckets are aligned to UTC). */
export function sumSeries(list: TrafficSeries[], stepS: number, oldestT: number): TrafficSeries {
  const byT = new Map<number, { seconds: number; values: number[] }>();
  for (const s of list) {
    s.t.forEach((t, i) => {
      if (t < oldestT) return;
      let b = byT.get(t);
      if (!b) byT.set(t, (b = { seconds: 0, values: SERIES_FIELDS.map(() => 0) }));
      b.seconds = Math.max(b.seconds, s.seconds[i]);
      SERIES_FIELDS.forEach((f, k) => (b.values[k] += s[f][i]));
    });
  }
  const ts = [...byT.keys()].sort((a, b) => a - b);
  const out: TrafficSeries = {
    stepS,
    t: ts,
    seconds: ts.map((t) => byT.get(t)!.seconds),
    bytesToNodes: [],
    bytesFromNodes: [],
    relayRequests: [],
    apiRequests: [],
  };
  SERIES_FIELDS.forEach((f, k) => (out[f] = ts.map((t) => byT.get(t)!.values[k])));
  return out;
}
