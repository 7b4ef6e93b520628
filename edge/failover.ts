/** The one failover rule every forwarding path of the edge (HTTP, WebSocket; Node.js, Workers, Deno) follows. */
import { INGRESS_HEADERS } from '../shared/records/api.ts';

export const RELAY_ERROR_HEADER = INGRESS_HEADERS.relayError;

/**
 * Whether a target's answer means "try the next target": always when the relay itself failed (it
 * marks its own errors: no tunnel to the node, ...), which is never the node's answer; otherwise a
 * 502/503 while another target is left. The node's upstream's own 502/503 on the last target passes.
 */
export function tryNextTarget(
  status: number,
  relayError: string | null | undefined,
  isLast: boolean,
): boolean {
  if (relayError) return true;
  return !isLast && (status === 502 || status === 503);
}
