/** The one failover rule every proxy path of the edge (HTTP, WebSocket; Node, Workers, Deno) follows. */
import { INGRESS_HEADERS } from '../shared/records/api.ts';

export const RELAY_ERROR_HEADER = INGRESS_HEADERS.relayError;

/**
 * Whether an upstream's answer means "try the next candidate": always when the relay itself failed
 * (it marks its own errors: no tunnel to the node, ...), which is never the node's answer; otherwise
 * a 502/503 while another candidate is left. A node app's own 502/503 on the last candidate passes.
 */
export function tryNextUpstream(status: number, relayError: string | null | undefined, isLast: boolean): boolean {
  if (relayError) return true;
  return !isLast && (status === 502 || status === 503);
}
