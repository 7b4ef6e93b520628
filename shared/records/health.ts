/**
 * A super node's health report (`GET /api/v1/health`): what an operator needs at a glance, and a
 * verdict. 200 while the super node is fit to serve (status `ok` or `degraded`), 503 when it is not
 * (`unfit`): some check failed. docs/operator-guide.md lists the checks.
 */
import type { HealthResponse } from './api.ts';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface HealthCheck {
  /** store, tunnel, dht, replication, certificate. */
  name: string;
  status: CheckStatus;
  detail: string;
}

export interface PeerHealth {
  id: string;
  url: string;
  /** ok: pulled from within the lag limit; behind: not since; never: not once since start. */
  state: 'ok' | 'behind' | 'never';
  /** Seconds since the last complete pull from it (null: never). */
  lagS: number | null;
  /** Local changes not yet pushed to it. */
  pending: number;
  lastPushAt: number | null;
  lastPullAt: number | null;
  lastError: string | null;
}

export interface SuperNodeHealth extends Omit<HealthResponse, 'ok'> {
  /** True unless `status` is `unfit`. */
  ok: boolean;
  status: 'ok' | 'degraded' | 'unfit';
  version: string;
  label: string;
  region: string | null;
  startedAt: number;
  uptimeS: number;
  store: { names: number; namesBound: number; logBytes: number; writeError: string | null };
  peers: PeerHealth[];
  dht: {
    routingTable: { v4: number; v4Usable: number; v6: number | null };
    sizeEstimate: number;
  } | null;
  tunnel: { sessions: number; connections: number; streams: number; queuedStreams: number };
  /** The zone certificate this super node holds (null: none, or no zone). */
  certificate: { notAfter: number; expiresInS: number } | null;
  checks: HealthCheck[];
}
