/**
 * The network map's data: what each super node reports about itself (`GET /api/v1/network`), and
 * what the gateway merges from all of them (`GET /network.json` at the zone's apex). docs/network-map.md.
 */
import { API_PREFIX } from './api.ts';
import type { RouteMode } from './route.ts';

/** GET on a super node: its {@link SuperNodeReport}. */
export const networkPath = `${API_PREFIX}/network`;

/** The traffic a super node relayed, in buckets aligned to multiples of `stepS` (UTC). */
export interface TrafficSeries {
  /** Bucket length, s: 60 for the last hour, 900 for the last day. */
  stepS: number;
  /** Bucket start times, s since the epoch, oldest first. */
  t: number[];
  /** Seconds each bucket has counted: stepS, less for the newest (still filling) and the first after a start. */
  seconds: number[];
  /** Bytes sent into the tunnels (towards nodes) and read from them, each bucket. */
  bytesToNodes: number[];
  bytesFromNodes: number[];
  /** Relayed requests (HTTP and WebSocket) and registry API requests, each bucket. */
  relayRequests: number[];
  apiRequests: number[];
}

export const SERIES_FIELDS = [
  'bytesToNodes',
  'bytesFromNodes',
  'relayRequests',
  'apiRequests',
] as const;
export type SeriesField = (typeof SERIES_FIELDS)[number];

/**
 * A node that asked to be listed (`listed: true` in its route record). The records come along so a
 * gateway checks the listing was signed by the name's owner rather than taking a super node's word.
 */
export interface ListedNode {
  name: string;
  /** Registrar-signed binding JWS and owner-signed route record JWS (with `listed: true`). */
  binding: string;
  route: string;
}

export interface SuperNodeReport {
  v: 1;
  id: string;
  /** Display name from its config (`--label`), and region (`--region`), or null. */
  label: string;
  region: string | null;
  /** `pc2 <version>`. */
  version: string;
  /** When it started and its clock now, ms since the epoch. */
  startedAt: number;
  time: number;
  /** Its health verdict (GET /api/v1/health answers 200). */
  fit: boolean;
  /** Names with a live route record, by mode (the registry is replicated: every super node counts all). */
  nodesOnline: Record<RouteMode, number>;
  namesBound: number;
  /** Nodes holding a tunnel to this super node. */
  tunnelSessions: number;
  /** Estimated DHT size, or null without a DHT. */
  dhtSizeEstimate: number | null;
  listed: ListedNode[];
  hour: TrafficSeries;
  day: TrafficSeries;
}

/** One super node as the map shows it. */
export interface MapSuperNode {
  id: string;
  label: string;
  region: string | null;
  /** It answered the gateway just now. */
  up: boolean;
  /** Healthy by its own report (null when down). */
  fit: boolean | null;
  uptimeS: number | null;
  version: string | null;
  tunnelSessions: number | null;
}

/** `GET /network.json` at the apex: the network as the gateway sees it. */
export interface NetworkMap {
  v: 1;
  zone: string;
  /** ms since the epoch. */
  generatedAt: number;
  superNodes: MapSuperNode[];
  nodesOnline: Record<RouteMode, number>;
  dhtSizeEstimate: number | null;
  /** Nodes that opted in, verified: name, mode and public URL. Nothing else about any node. */
  listed: { name: string; mode: RouteMode; url: string }[];
  /** Sums over the super nodes that answered. */
  hour: TrafficSeries;
  day: TrafficSeries;
}

/** Most listed nodes a report may carry and the map shows. */
export const MAX_LISTED = 500;
/** Most buckets a series may carry (a day of 15-minute buckets and the one filling). */
export const MAX_SERIES_POINTS = 100;
