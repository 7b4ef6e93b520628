/**
 * `pc2 status [name]`: what the network says about a name, asked of every given super node: the
 * binding (owner, registrar, since when), the route record (mode, endpoint or relays, seq, lease),
 * verified the way the edge verifies it, and whether the super nodes agree. Without a name: every
 * name bound to --key.
 */
import { fetchSuperNodeInfo } from '../agent/supernode-api.ts';
import type { RegistryClient } from '../agent/registry-client.ts';
import { Id } from '../shared/id.ts';
import { KeyPair } from '../shared/keys.ts';
import type { ResolveResponse } from '../shared/records/api.ts';
import type { NameBinding } from '../shared/records/binding.ts';
import { decodeJwsPayload } from '../shared/records/request.ts';
import { type RouteRecord, verifyResolution } from '../shared/records/route.ts';
import { CliError, EXIT } from './errors.ts';
import { KEY_FLAG, nameProblem, SUPERNODE_FLAG } from './flags.ts';
import { readKeyFile } from './keyfile.ts';
import { parseOptions } from './options.ts';
import { atFirst, clientsFor } from './owner-network.ts';

const USAGE = `pc2 status [<name>] --supernode <url> [--supernode <url> ...] [--json]

What the network says about <name> (default: every name bound to --key).`;

const SPEC = {
  supernode: { ...SUPERNODE_FLAG, required: true },
  key: { ...KEY_FLAG, description: 'without a name: the key whose names are shown' },
  json: { kind: 'boolean', description: 'print JSON', default: false },
} as const;

export interface NameStatus {
  name: string;
  /** online: a verified route with a live lease; offline: bound, lease over or none; unknown: not registered. */
  state: 'online' | 'offline' | 'unknown' | 'unverified';
  binding: {
    owner: string;
    registrar: string;
    registrarUrl: string | null;
    boundAt: number;
  } | null;
  route: {
    mode: RouteRecord['mode'];
    endpoint: string | null;
    relays: { id: string; url: string | null }[];
    seq: number;
    issuedAt: number;
    expiresAt: number;
  } | null;
  problem?: string;
  superNodes: { url: string; answered: boolean; seq?: number | null; error?: string }[];
}

interface Known {
  url: string;
  id: string | null;
  trusted: string[];
}

async function superNodesOf(clients: RegistryClient[]): Promise<Known[]> {
  return Promise.all(
    clients.map(async (c) => {
      const registrar = await c.registrar().catch(() => null);
      const info = registrar ? null : await fetchSuperNodeInfo(c.url).catch(() => null);
      return {
        url: c.url,
        id: registrar?.id ?? info?.id ?? null,
        trusted: registrar?.trusted ?? [],
      };
    }),
  );
}

async function statusOf(
  name: string,
  clients: RegistryClient[],
  known: Known[],
): Promise<NameStatus> {
  const urlOf = (id: string) => known.find((k) => k.id === id)?.url ?? null;
  const answers = await Promise.all(
    clients.map((c) =>
      c.resolve(name).then(
        (r) => ({ ok: true as const, r }),
        (e: Error & { code?: string }) => ({ ok: false as const, e }),
      ),
    ),
  );
  const superNodes: NameStatus['superNodes'] = answers.map((a, i) => {
    if (a.ok)
      return {
        url: clients[i].url,
        answered: true,
        seq: a.r.route ? decodeJwsPayload<RouteRecord>(a.r.route).seq : null,
      };
    if (a.e.code === 'NOT_FOUND') return { url: clients[i].url, answered: true, seq: null };
    return { url: clients[i].url, answered: false, error: a.e.message };
  });
  if (!superNodes.some((s) => s.answered))
    throw new CliError(
      `no super node answered: ${superNodes.map((s) => `${s.url}: ${s.error}`).join('; ')}`,
      EXIT.UNREACHABLE,
    );
  // The newest route any super node holds (they converge by replication).
  let best: ResolveResponse | null = null;
  for (const a of answers) {
    if (!a.ok) continue;
    const seq = a.r.route ? decodeJwsPayload<RouteRecord>(a.r.route).seq : -1;
    const bestSeq = best?.route ? decodeJwsPayload<RouteRecord>(best.route).seq : -1;
    if (!best || seq > bestSeq) best = a.r;
  }
  if (!best) return { name, state: 'unknown', binding: null, route: null, superNodes };
  const binding = decodeJwsPayload<NameBinding & { registrar?: string }>(best.binding);
  const trusted = [...new Set(known.flatMap((k) => (k.id ? [k.id, ...k.trusted] : k.trusted)))];
  const verified = await verifyResolution(
    { name, binding: best.binding, route: best.route },
    trusted.map((t) => Id.parse(t)),
    Date.now(),
  );
  const signer = verified.ok
    ? verified.value.binding.registrar.toString()
    : (binding.registrar ?? '');
  const record = best.route ? decodeJwsPayload<RouteRecord>(best.route) : null;
  return {
    name,
    state: !verified.ok ? 'unverified' : verified.value.state,
    binding: {
      owner: binding.owner,
      registrar: signer,
      registrarUrl: urlOf(signer),
      boundAt: binding.boundAt,
    },
    route: record && {
      mode: record.mode,
      endpoint: record.endpoint ?? null,
      relays: record.relays.map((id) => ({ id, url: urlOf(id) })),
      seq: record.seq,
      issuedAt: record.iat,
      expiresAt: record.exp,
    },
    ...(verified.ok ? {} : { problem: `${verified.error.code}: ${verified.error.message}` }),
    superNodes,
  };
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function describe(s: NameStatus, me: string | null): string {
  if (s.state === 'unknown') return `${s.name}  not registered`;
  const lines = [`${s.name}  ${s.state}`];
  const b = s.binding!;
  lines.push(
    `  binding   owner ${b.owner}${b.owner === me ? ' (this key)' : ''}`,
    `            registrar ${b.registrar}${b.registrarUrl ? ` (${b.registrarUrl})` : ''}, bound ${iso(b.boundAt)}`,
  );
  const r = s.route;
  if (!r) lines.push('  route     none published');
  else {
    const where =
      r.mode === 'direct'
        ? `direct to ${r.endpoint}`
        : `relay via ${r.relays.map((x) => x.url ?? x.id).join(', ')}`;
    const left = r.expiresAt - Date.now();
    lines.push(
      `  route     ${where}`,
      `            seq ${r.seq}, published ${iso(r.issuedAt)}, lease until ${iso(r.expiresAt)} (${left > 0 ? `in ${Math.ceil(left / 1000)} s` : 'expired'})`,
    );
  }
  if (s.problem) lines.push(`  problem   ${s.problem}`);
  lines.push(
    `  super nodes: ${s.superNodes.map((x) => `${x.url} ${x.answered ? (x.seq == null ? 'no route' : `seq ${x.seq}`) : `unreachable (${x.error})`}`).join('; ')}`,
  );
  return lines.join('\n');
}

export async function runStatus(args: string[]): Promise<void> {
  const parsed = parseOptions(args, SPEC, USAGE);
  if (!parsed) return;
  const o = parsed.options;
  const [name, ...extra] = parsed.positionals;
  if (extra.length) throw new CliError(`unexpected argument "${extra[0]}"\n\n${USAGE}`, EXIT.USAGE);
  if (name) {
    const problem = nameProblem(name);
    if (problem) throw new CliError(`"${name}": ${problem}`, EXIT.USAGE);
  }
  const key = await readKeyFile(o.key, 'identity');
  if (!name && !key)
    throw new CliError(`no name given and no key at ${o.key}: say which name`, EXIT.USAGE);
  // Reading needs no key of one's own: a throwaway one signs nothing here.
  const clients = clientsFor(o.supernode, key ?? KeyPair.generate());
  const names = name ? [name] : (await atFirst(clients, (c) => c.namesOf())).value.names;
  const known = await superNodesOf(clients);
  const statuses = [];
  for (const n of names) statuses.push(await statusOf(n, clients, known));
  if (o.json) console.log(JSON.stringify(name ? statuses[0] : statuses, null, 2));
  else if (!statuses.length) console.log(`no names are bound to ${key!.id}`);
  else console.log(statuses.map((s) => describe(s, key?.id.toString() ?? null)).join('\n\n'));
}
