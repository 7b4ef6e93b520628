/** The one failover rule every forwarding path of the edge (HTTP, WebSocket; Node.js, Workers, Deno) follows. */
import { INGRESS_HEADERS, NODE_ERROR_HEADER } from '../shared/records/api.ts';
import { EdgeError } from './errors.ts';

export const RELAY_ERROR_HEADER = INGRESS_HEADERS.relayError;
export { NODE_ERROR_HEADER };

/**
 * Whether a target's answer is the node's agent saying its app is not answering: then no other
 * target can do better (they all lead to the same app), and the edge answers with its own page.
 */
export function nodeError(
  status: number,
  value: string | null | undefined,
  name: string,
): EdgeError | null {
  if (status !== 502 || value !== 'APP_NOT_ANSWERING') return null;
  return new EdgeError('APP_NOT_ANSWERING', `"${name}" is online but its app is not answering`);
}

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
