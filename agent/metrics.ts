/**
 * The node agent's metrics, read at scrape time: the tunnel to each super node (state, connections,
 * bytes each way), whether the node is online and its route record's lease, and whether its app
 * answers (app-health.ts). Every sample carries `node` (the name): one process may run several
 * (pc2 devnet). The `supernode` label is the super node's API URL as configured.
 */
import type { MetricSet, Sample } from '../shared/metrics.ts';
import type { AppHealth } from './app-health.ts';
import type { LinkState, NodeAgent } from './node-agent.ts';

export interface WatchedAgent {
  agent: NodeAgent;
  app?: AppHealth;
}

const STATES: LinkState[] = [
  'unknown',
  'unreachable',
  'connecting',
  'online',
  'reconnecting',
  'failed',
];

type Def = MetricSet['defs'][number] & { read(w: WatchedAgent, node: { node: string }): Sample[] };

const DEFS: Def[] = [
  {
    name: 'pc2_node_online',
    help: 'Whether the node is online (a route record was accepted and, relayed, a tunnel is up): 1 or 0.',
    type: 'gauge',
    labelNames: ['node', 'mode'],
    read: ({ agent }, n) => {
      const s = agent.status();
      return [{ labels: { ...n, mode: s.mode ?? 'none' }, value: s.online ? 1 : 0 }];
    },
  },
  {
    name: 'pc2_node_tunnel_state',
    help: 'The tunnel to each super node: 1 for its current state, 0 for the others.',
    type: 'gauge',
    labelNames: ['node', 'supernode', 'state'],
    read: ({ agent }, n) =>
      agent.tunnels().flatMap((t) =>
        STATES.map((state) => ({
          labels: { ...n, supernode: t.url, state },
          value: t.state === state ? 1 : 0,
        })),
      ),
  },
  {
    name: 'pc2_node_tunnel_connections',
    help: 'Tunnel connections open to each super node.',
    type: 'gauge',
    labelNames: ['node', 'supernode'],
    read: ({ agent }, n) =>
      agent.tunnels().map((t) => ({ labels: { ...n, supernode: t.url }, value: t.connections })),
  },
  {
    name: 'pc2_node_tunnel_bytes_total',
    help: 'Bytes on the tunnel connections to each super node, by direction (sent, received).',
    type: 'counter',
    labelNames: ['node', 'supernode', 'direction'],
    read: ({ agent }, n) =>
      agent.tunnels().flatMap((t) => [
        { labels: { ...n, supernode: t.url, direction: 'sent' }, value: t.bytesSent },
        { labels: { ...n, supernode: t.url, direction: 'received' }, value: t.bytesReceived },
      ]),
  },
  {
    name: 'pc2_node_lease_expiry_timestamp_seconds',
    help: 'When the route record last published expires (the node shows offline after it).',
    type: 'gauge',
    labelNames: ['node'],
    read: ({ agent }, n) =>
      agent.leaseExpiresAt === null ? [] : [{ labels: n, value: agent.leaseExpiresAt / 1000 }],
  },
  {
    name: 'pc2_node_app_up',
    help: 'Whether the app answers GET / below 500 within 5 s: 1 or 0 (absent before the first check).',
    type: 'gauge',
    labelNames: ['node'],
    read: ({ app }, n) =>
      app?.state.up === null || !app ? [] : [{ labels: n, value: app.state.up ? 1 : 0 }],
  },
  {
    name: 'pc2_node_app_check_seconds',
    help: 'How long the last check of the app took.',
    type: 'gauge',
    labelNames: ['node'],
    read: ({ app }, n) =>
      app?.state.seconds == null ? [] : [{ labels: n, value: app.state.seconds }],
  },
  {
    name: 'pc2_node_app_check_failures_total',
    help: 'Checks of the app that got no answer below 500.',
    type: 'counter',
    labelNames: ['node'],
    read: ({ app }, n) => (app ? [{ labels: n, value: app.state.failures }] : []),
  },
];

export function nodeAgentMetrics(agents: () => readonly WatchedAgent[]): MetricSet {
  return {
    defs: DEFS,
    collect() {
      const out: Record<string, Sample[]> = {};
      for (const def of DEFS)
        out[def.name] = agents().flatMap((w) => def.read(w, { node: w.agent.status().name }));
      return out;
    },
  };
}
