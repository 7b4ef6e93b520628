/**
 * The node agent's one state model: what the owner's status screen, the log lines and the inspector
 * all show, from the same object. Per super node: is its registry answering, and is the tunnel up,
 * down, or not used (direct mode); the route record: when it was last published and when its lease
 * ends; the app: answering or not, and why not.
 */
import type { RouteMode } from '../shared/records/route.ts';

export type AgentMode = 'auto' | 'direct' | 'relay';
export type TunnelState = 'up' | 'connecting' | 'down' | 'not used';
export type RegistryState = 'unknown' | 'up' | 'down';
export type AppState = 'unknown' | 'up' | 'down';

export interface SuperNodeStatus {
  url: string;
  /** Its id, once it answered. */
  id: string | null;
  registry: RegistryState;
  tunnel: TunnelState;
  /** Why the registry or the tunnel is down. */
  detail?: string;
}

export interface AgentStatus {
  name: string;
  /** Where visitors reach the node, e.g. https://alice.ela.city. */
  publicUrl: string | null;
  mode: RouteMode | null;
  /**
   * starting: before the first route record; online: a route record with a live lease, and in relay
   * mode a tunnel up; offline: neither; stopped: after stop().
   */
  state: 'starting' | 'online' | 'offline' | 'stopped';
  online: boolean;
  /** When the route record was last accepted by a super node, and when its lease ends (ms). */
  publishedAt: number | null;
  expiresAt: number | null;
  /** The last publish failure, while the lease is not renewed. */
  routeError?: string;
  app: { url: string; state: AppState; checkedAt: number | null; detail?: string };
  superNodes: SuperNodeStatus[];
  /** Direct mode's listener for the edge (--listen), if any. */
  listen: string | null;
}

const time = (ms: number | null) => (ms ? new Date(ms).toISOString().slice(11, 19) + 'Z' : '-');

/** The status as lines of text: the status screen's frame, and what each log line says. */
export function statusLines(s: AgentStatus): string[] {
  const word =
    s.state === 'online' ? 'ONLINE' : s.state === 'stopped' ? 'STOPPED' : s.state.toUpperCase();
  const app =
    s.app.state === 'down'
      ? `app not answering at ${s.app.url} (${s.app.detail})`
      : s.app.state === 'up'
        ? `app answering at ${s.app.url}`
        : `app at ${s.app.url}: not checked yet`;
  return [
    `${s.name}  ${word}  ${s.publicUrl ?? ''}`.trimEnd(),
    `mode ${s.mode ?? '-'}   published ${time(s.publishedAt)}   lease until ${time(s.expiresAt)}${s.listen ? `   listening on ${s.listen}` : ''}`,
    app,
    ...(s.routeError ? [`route not renewed: ${s.routeError}`] : []),
    ...s.superNodes.map(
      (l) =>
        `  ${l.url}  registry ${l.registry}, tunnel ${l.tunnel}${l.detail ? `  (${l.detail})` : ''}`,
    ),
  ];
}

/** The status as log fields (one line per change). */
export function statusFields(s: AgentStatus): Record<string, unknown> {
  return {
    state: s.state,
    mode: s.mode,
    url: s.publicUrl,
    publishedAt: s.publishedAt && new Date(s.publishedAt).toISOString(),
    expiresAt: s.expiresAt && new Date(s.expiresAt).toISOString(),
    app: s.app.state === 'down' ? `down: ${s.app.detail}` : s.app.state,
    ...(s.routeError ? { routeError: s.routeError } : {}),
    superNodes: s.superNodes.map((l) => `${l.url} registry=${l.registry} tunnel=${l.tunnel}`),
  };
}
