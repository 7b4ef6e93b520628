/**
 * The node agent's metrics, read at scrape time from the agent's one state model (agent-status.ts):
 * the tunnel to each super node (state, connections, bytes each way), whether the node is online and
 * its route record's lease, whether its app answers, and the requests through its entry (the same
 * totals the inspector's request list keeps, request-log.ts). Every sample carries `node` (the name):
 * one process may run several (pc2 devnet). The `supernode` label is the super node's API URL as
 * configured.
 */
import type { MetricSet, Sample } from '../shared/metrics.ts';
import type { TunnelState } from './agent-status.ts';
import type { NodeAgent } from './node-agent.ts';

const STATES: TunnelState[] = ['up', 'connecting', 'down', 'not used'];

type Def = MetricSet['defs'][number] & { read(agent: NodeAgent, node: { node: string }): Sample[] };

const DEFS: Def[] = [
  {
    name: 'pc2_node_online',
    help: 'Whether the node is online (a route record with a live lease and, relayed, a tunnel up): 1 or 0.',
    type: 'gauge',
    labelNames: ['node', 'mode'],
    read: (agent, n) => {
      const s = agent.status();
      return [{ labels: { ...n, mode: s.mode ?? 'none' }, value: s.online ? 1 : 0 }];
    },
  },
  {
    name: 'pc2_node_tunnel_state',
    help: 'The tunnel to each super node: 1 for its current state, 0 for the others.',
    type: 'gauge',
    labelNames: ['node', 'supernode', 'state'],
    read: (agent, n) =>
      agent.status().superNodes.flatMap((l) =>
        STATES.map((state) => ({
          labels: { ...n, supernode: l.url, state },
          value: l.tunnel === state ? 1 : 0,
        })),
      ),
  },
  {
    name: 'pc2_node_tunnel_connections',
    help: 'Tunnel connections open to each super node.',
    type: 'gauge',
    labelNames: ['node', 'supernode'],
    read: (agent, n) =>
      agent.tunnels().map((t) => ({ labels: { ...n, supernode: t.url }, value: t.connections })),
  },
  {
    name: 'pc2_node_tunnel_bytes_total',
    help: 'Bytes on the tunnel connections to each super node, by direction (sent, received).',
    type: 'counter',
    labelNames: ['node', 'supernode', 'direction'],
    read: (agent, n) =>
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
    read: (agent, n) => {
      const { expiresAt } = agent.status();
      return expiresAt === null ? [] : [{ labels: n, value: expiresAt / 1000 }];
    },
  },
  {
    name: 'pc2_node_app_up',
    help: 'Whether the app answers HTTP at all (any status) within the check timeout: 1 or 0 (absent before the first check).',
    type: 'gauge',
    labelNames: ['node'],
    read: (agent, n) => {
      const { state } = agent.status().app;
      return state === 'unknown' ? [] : [{ labels: n, value: state === 'up' ? 1 : 0 }];
    },
  },
  {
    name: 'pc2_node_app_checked_timestamp_seconds',
    help: 'When the app was last checked.',
    type: 'gauge',
    labelNames: ['node'],
    read: (agent, n) => {
      const { checkedAt } = agent.status().app;
      return checkedAt === null ? [] : [{ labels: n, value: checkedAt / 1000 }];
    },
  },
  {
    name: 'pc2_node_requests_total',
    help: "Requests through the node's entry by status class (0xx: no response sent).",
    type: 'counter',
    labelNames: ['node', 'status_class'],
    read: (agent, n) =>
      Object.entries(agent.requests.totals.byClass).map(([status_class, value]) => ({
        labels: { ...n, status_class },
        value,
      })),
  },
  {
    name: 'pc2_node_request_body_bytes_total',
    help: "Body bytes through the node's entry, by direction (in: from visitors, out: to them).",
    type: 'counter',
    labelNames: ['node', 'direction'],
    read: (agent, n) => [
      { labels: { ...n, direction: 'in' }, value: agent.requests.totals.bytesIn },
      { labels: { ...n, direction: 'out' }, value: agent.requests.totals.bytesOut },
    ],
  },
];

export function nodeAgentMetrics(agents: () => readonly NodeAgent[]): MetricSet {
  return {
    defs: DEFS,
    collect() {
      const out: Record<string, Sample[]> = {};
      for (const def of DEFS)
        out[def.name] = agents().flatMap((a) => def.read(a, { node: a.status().name }));
      return out;
    },
  };
}
