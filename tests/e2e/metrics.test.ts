/**
 * Metrics and health of every long-running role as separate processes: two `pc2 supernode`, a
 * `pc2 gateway --workers 2` and `pc2 node`, each with `--metrics` on a loopback port of its own (and
 * the super nodes and gateway with `--metrics-token` on their main port too). Every exposition passes
 * Debian's `promtool check metrics`, and the numbers are the traffic the test sent. `pc2 devnet`
 * (all roles in one process) is checked the same way.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SuperNodeHealth } from '../../shared/records/health.ts';
import { PC2 } from '../helpers/cli.ts';
import { type ProcessNetwork, startProcessNetwork } from '../helpers/process-network.ts';
import { pc2, reservePort } from '../helpers/processes.ts';

const TOKEN = 'metrics-token-for-the-test-0123';

/** The exposition must pass `promtool check metrics` (exit 0, nothing said). */
function promtoolCheck(text: string): void {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  expect(`${r.stdout}${r.stderr}`).toBe('');
  expect(r.status).toBe(0);
}

/** Sum of the samples of `name` whose labels include `match`. */
function value(text: string, name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    const m = /^([a-z_:0-9]+)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = Object.fromEntries(
      [...(m[3] ?? '').matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]),
    );
    if (Object.entries(match).every(([k, v]) => labels[k] === v)) {
      sum += Number(m[4]);
      seen = true;
    }
  }
  if (!seen) throw new Error(`no sample of ${name} ${JSON.stringify(match)}`);
  return sum;
}

async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; type: string }> {
  const res = await request(url, { headers });
  return {
    status: res.statusCode,
    body: await res.body.text(),
    type: String(res.headers['content-type'] ?? ''),
  };
}

describe('metrics and health of pc2 supernode, gateway (2 workers) and node', () => {
  let net: ProcessNetwork;
  const ports = { primary: 0, secondary: 0, gateway: 0, node: 0, inspector: 0 };

  beforeAll(async () => {
    for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await reservePort();
    net = await startProcessNetwork({
      extraArgs: {
        supernode: (name) => [
          '--metrics',
          `127.0.0.1:${ports[name]}`,
          '--metrics-token',
          TOKEN,
          '--label',
          name,
          '--region',
          'test-region',
        ],
        gateway: ['--workers', '2', '--metrics', String(ports.gateway), '--metrics-token', TOKEN],
        node: [
          '--metrics',
          `127.0.0.1:${ports.node}`,
          '--inspector',
          `127.0.0.1:${ports.inspector}`,
          '--list-on-map',
        ],
      },
    });
  }, 150_000);
  afterAll(() => net?.close());

  it('counts what went through: gateway (summed over both workers), super nodes, node', async () => {
    const N = 24;
    for (let i = 0; i < N; i++) expect((await net.get(`/page-${i}`)).status).toBe(200);

    const gateway = await get(`http://127.0.0.1:${ports.gateway}/metrics`);
    expect(gateway.status).toBe(200);
    expect(gateway.type).toContain('text/plain');
    promtoolCheck(gateway.body);
    expect(
      value(gateway.body, 'pc2_gateway_requests_total', { route: 'relayed', code: '2xx' }),
    ).toBe(N);
    expect(
      value(gateway.body, 'pc2_gateway_request_duration_seconds_count', { route: 'relayed' }),
    ).toBe(N);
    expect(value(gateway.body, 'pc2_gateway_route_cache_total', { result: 'hit' })).toBeGreaterThan(
      0,
    );
    // Two workers' process metrics summed: two processes' worth of memory, one gateway.
    expect(value(gateway.body, 'pc2_process_resident_memory_bytes')).toBeGreaterThan(0);

    let relayedBytes = 0;
    for (const name of ['primary', 'secondary'] as const) {
      const sn = await get(`http://127.0.0.1:${ports[name]}/metrics`);
      promtoolCheck(sn.body);
      expect(value(sn.body, 'pc2_registry_names_bound')).toBe(1);
      expect(value(sn.body, 'pc2_registry_routes_live', { mode: 'relay' })).toBe(1);
      expect(value(sn.body, 'pc2_tunnel_sessions')).toBe(1);
      expect(value(sn.body, 'pc2_supernode_fit')).toBe(1);
      expect(value(sn.body, 'pc2_supernode_info', { label: name, region: 'test-region' })).toBe(1);
      expect(value(sn.body, 'pc2_dht_routing_table_entries', { family: 'ipv4' })).toBeGreaterThan(
        0,
      );
      expect(value(sn.body, 'pc2_registry_replication_lag_seconds')).toBeLessThan(60);
      expect(
        value(sn.body, 'pc2_registry_writes_total', { op: 'route', result: 'ok' }),
      ).toBeGreaterThan(0);
      relayedBytes += value(sn.body, 'pc2_tunnel_bytes_total', { direction: 'from_nodes' });
    }
    // N answers came back through the tunnels.
    expect(relayedBytes).toBeGreaterThan(N * 100);

    const node = await get(`http://127.0.0.1:${ports.node}/metrics`);
    promtoolCheck(node.body);
    expect(value(node.body, 'pc2_node_online', { node: 'alice', mode: 'relay' })).toBe(1);
    expect(value(node.body, 'pc2_node_tunnel_state', { state: 'up' })).toBe(2);
    // The node's request totals are the inspector's: the same requests, counted once, kept past Clear.
    const inspector = `http://127.0.0.1:${ports.inspector}`;
    const listed = JSON.parse((await get(`${inspector}/api/state`)).body).requests as {
      status: number;
    }[];
    const ok = listed.filter((r) => r.status === 200).length;
    expect(ok).toBeGreaterThanOrEqual(N);
    expect(value(node.body, 'pc2_node_requests_total', { status_class: '2xx' })).toBe(ok);
    expect(
      value(node.body, 'pc2_node_request_body_bytes_total', { direction: 'out' }),
    ).toBeGreaterThan(0);
    const cleared = await request(`${inspector}/api/clear`, {
      method: 'POST',
      headers: { 'x-pc2-inspector': '1' },
    });
    expect(cleared.statusCode).toBe(200);
    await cleared.body.dump();
    expect(JSON.parse((await get(`${inspector}/api/state`)).body).requests).toEqual([]);
    const after = (await get(`http://127.0.0.1:${ports.node}/metrics`)).body;
    expect(value(after, 'pc2_node_requests_total', { status_class: '2xx' })).toBe(ok);
    expect(value(node.body, 'pc2_node_tunnel_bytes_total', { direction: 'sent' })).toBeGreaterThan(
      0,
    );
    expect(value(node.body, 'pc2_node_lease_expiry_timestamp_seconds')).toBeGreaterThan(
      Date.now() / 1000,
    );
    for (
      let i = 0;
      i < 50 &&
      !/^pc2_node_app_up/m.test((await get(`http://127.0.0.1:${ports.node}/metrics`)).body);
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
    expect(
      value((await get(`http://127.0.0.1:${ports.node}/metrics`)).body, 'pc2_node_app_up'),
    ).toBe(1);
  });

  it('serves /metrics on the main ports only with the bearer token', async () => {
    const api = `${net.primary.url}/metrics`;
    expect((await get(api)).status).toBe(401);
    expect(
      (await get(api, { authorization: 'Bearer wrong-token-of-the-same-size!!' })).status,
    ).toBe(401);
    const sn = await get(api, { authorization: `Bearer ${TOKEN}` });
    expect(sn.status).toBe(200);
    promtoolCheck(sn.body);

    // The gateway answers on the apex only, through whichever worker takes the connection.
    const apex = `http://127.0.0.1:${net.gatewayPort}/metrics`;
    const host = `localhost:${net.gatewayPort}`;
    expect((await get(apex, { host })).status).toBe(401);
    const gw = await get(apex, { host, authorization: `Bearer ${TOKEN}` });
    expect(gw.status).toBe(200);
    promtoolCheck(gw.body);
    expect(value(gw.body, 'pc2_gateway_requests_total', { route: 'relayed' })).toBeGreaterThan(0);
    // On a node's name, /metrics is the node's.
    const alice = await get(apex, { host: `alice.localhost:${net.gatewayPort}` });
    expect(alice.body).toContain('hello from alice');
  });

  it('reports health, and pc2 status --health shows it', async () => {
    const res = await get(`${net.primary.url}/api/v1/health`);
    expect(res.status).toBe(200);
    const h = JSON.parse(res.body) as SuperNodeHealth;
    expect(h.status).toBe('ok');
    expect(h.version).toMatch(/^pc2 \d/);
    expect(h.label).toBe('primary');
    expect(h.store.namesBound).toBe(1);
    expect(h.tunnel.sessions).toBe(1);
    expect(h.peers).toHaveLength(1);
    expect(h.peers[0].state).toBe('ok');
    expect(h.dht!.routingTable.v4).toBeGreaterThan(0);
    expect(h.checks.map((c) => c.name)).toEqual(['store', 'tunnel', 'dht', 'replication']);

    const out = execFileSync(PC2, ['status', '--health', '--supernode', net.primary.url], {
      encoding: 'utf8',
    });
    expect(out).toContain('primary  OK');
    expect(out).toContain(`peer      ${net.secondary.url}  ok`);
    const unreachable = spawnSync(
      PC2,
      ['status', '--health', '--supernode', 'http://127.0.0.1:1'],
      {
        encoding: 'utf8',
      },
    );
    expect(unreachable.status).toBe(4);
    expect(unreachable.stderr).toContain('no answer');
  });

  it('lists alice on the map, because she asked', async () => {
    const res = await get(`http://127.0.0.1:${net.gatewayPort}/network.json`, {
      host: `localhost:${net.gatewayPort}`,
    });
    const map = JSON.parse(res.body);
    expect(map.superNodes.map((s: { label: string; up: boolean }) => [s.label, s.up])).toEqual([
      ['primary', true],
      ['secondary', true],
    ]);
    expect(map.listed).toEqual([
      { name: 'alice', mode: 'relay', url: `http://alice.localhost:${net.gatewayPort}` },
    ]);
  });
});

describe('metrics of pc2 devnet (every role in one process)', () => {
  it('passes promtool and carries every role, on by default (npm start)', async () => {
    const port = await reservePort();
    const devnet = pc2(['devnet', '--port', String(port)]);
    try {
      await devnet.waitFor(/Ctrl-C stops everything/, 60_000);
      const [metricsUrl] = devnet.output().match(/http:\/\/127\.0\.0\.1:\d+\/metrics/) ?? [];
      expect(metricsUrl).toBeDefined();
      const res = await get(`http://127.0.0.1:${port}/`, { host: `alice.localhost:${port}` });
      expect(res.status).toBe(200);
      const text = (await get(metricsUrl!)).body;
      promtoolCheck(text);
      expect(value(text, 'pc2_gateway_requests_total', { route: 'relayed', code: '2xx' })).toBe(1);
      expect(value(text, 'pc2_registry_names_bound')).toBe(4); // two super nodes, two names each
      expect(value(text, 'pc2_node_online', { node: 'bob', mode: 'direct' })).toBe(1);
    } finally {
      await devnet.kill('SIGINT');
    }
  }, 90_000);
});
