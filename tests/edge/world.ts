/**
 * One test world: registrars, nodes with names in every state the edge must tell apart, three
 * super nodes (A and B up, D down) and a direct node, all on loopback.
 */
import { KeyPair } from '../../shared/keys.ts';
import type { ResolveResponse } from '../../shared/records/api.ts';
import { signBinding } from '../../shared/records/binding.ts';
import { signRoute } from '../../shared/records/route.ts';
import type { EdgeConfig } from '../../edge/config.ts';
import { ENV_KEYS } from '../../edge/env-config.ts';
import { deadPort, DirectNode, FakeSuperNode } from './origins.ts';
import { NodeEntry } from '../../agent/entry.ts';
import { RequestLog } from '../../agent/request-log.ts';

export const ZONE = 'localhost';

export interface World {
  a: FakeSuperNode;
  b: FakeSuperNode;
  direct: DirectNode;
  edgeKey: KeyPair;
  registrar: KeyPair;
  /** The nodes' keys by name. */
  nodes: Map<string, KeyPair>;
  /** Superset of everything an adapter needs, as an EdgeConfig object and as PC2_EDGE_* variables. */
  config: EdgeConfig;
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function createWorld(): Promise<World> {
  const registrar = KeyPair.generate();
  const rogueRegistrar = KeyPair.generate();
  const edgeKey = KeyPair.generate();
  const thief = KeyPair.generate();
  const records = new Map<string, ResolveResponse>();
  const a = await new FakeSuperNode('A', records, [edgeKey.id]).start();
  const b = await new FakeSuperNode('B', records, [edgeKey.id]).start();
  const direct = await new DirectNode().start();
  // A direct node whose agent runs and whose app does not: the agent's real entry, the app's port dead.
  const entry = new NodeEntry({
    upstream: new URL(`http://127.0.0.1:${await deadPort()}`),
    hostHeader: 'visitor',
    log: new RequestLog(),
  });
  const entryUrl = `http://127.0.0.1:${await entry.listen('127.0.0.1', 0, 'direct')}`;
  const dead = { id: KeyPair.generate().id, url: `http://127.0.0.1:${await deadPort()}` };
  const unconfigured = KeyPair.generate().id;
  const now = Date.now();
  const nodes = new Map<string, KeyPair>();
  const lease = { seq: 1, iat: now - 1000, exp: now + 3_600_000 };

  const add = async (
    name: string,
    route: { mode: 'direct'; endpoint: string } | { mode: 'relay'; relays: string[] } | null,
    opts: { registrar?: KeyPair; signer?: KeyPair; exp?: number; tamper?: boolean } = {},
  ) => {
    const owner = KeyPair.generate();
    nodes.set(name, owner);
    const binding = await signBinding(
      { name, owner: owner.id.toString(), boundAt: now - 60_000 },
      opts.registrar ?? registrar,
    );
    let routeJws: string | null = null;
    if (route) {
      const exp = opts.exp ?? lease.exp;
      const body = route.mode === 'direct' ? { ...route, relays: [] } : route;
      routeJws = await signRoute(
        { name, ...body, seq: lease.seq, iat: Math.min(lease.iat, exp - 1000), exp },
        opts.signer ?? owner,
      );
      if (opts.tamper) {
        const [h, p, s] = routeJws.split('.');
        routeJws = `${h}.${p}.${s.startsWith('A') ? 'B' : 'A'}${s.slice(1)}`;
      }
    }
    records.set(name, { name, binding, route: routeJws });
  };
  const A = a.id.toString();
  const B = b.id.toString();
  const D = dead.id.toString();
  await add('alice', { mode: 'direct', endpoint: direct.url });
  await add('bob', { mode: 'relay', relays: [A] });
  await add('carol', { mode: 'relay', relays: [D, A] });
  await add('erin', { mode: 'relay', relays: [B, A] });
  await add('kim', { mode: 'relay', relays: [unconfigured.toString(), D] });
  await add('frank', { mode: 'relay', relays: [A] }, { exp: now - 1000 });
  await add('gina', null);
  await add('mallory', { mode: 'relay', relays: [A] }, { tamper: true });
  await add('ivan', { mode: 'relay', relays: [A] }, { registrar: rogueRegistrar });
  await add('judy', { mode: 'relay', relays: [A] }, { signer: thief });
  b.absentNodes.add(nodes.get('erin')!.id.toString());
  // Relayed and direct nodes that are online, with their app down.
  await add('lena', { mode: 'relay', relays: [A] });
  a.appDownNodes.add(nodes.get('lena')!.id.toString());
  await add('otto', { mode: 'direct', endpoint: entryUrl });

  // D first: every registry look-up fails over from a dead super node.
  const superNodes = [
    { id: D, url: dead.url },
    { id: A, url: a.url },
    { id: B, url: b.url },
  ];
  // The direct node listens on loopback: developer mode admits it.
  const config: EdgeConfig = {
    zone: ZONE,
    registrarKeys: [registrar.id.toString()],
    edgeKey: edgeKey.bosonPrivateKeyBase58(),
    superNodes,
    developerMode: true,
  };
  const env = {
    [ENV_KEYS.developerMode]: 'true',
    [ENV_KEYS.zone]: ZONE,
    [ENV_KEYS.registrarKeys]: registrar.id.toString(),
    [ENV_KEYS.edgeKey]: edgeKey.bosonPrivateKeyBase58(),
    [ENV_KEYS.superNodes]: superNodes.map((s) => `${s.id}=${s.url}`).join(','),
  };
  return {
    a,
    b,
    direct,
    edgeKey,
    registrar,
    nodes,
    config,
    env,
    async close() {
      await Promise.all([a.close(), b.close(), direct.close(), entry.close()]);
    },
  };
}
