/**
 * The zone's replicated records. Each is a JWS its originator signed, so any super node can check
 * it whoever relayed it:
 * - heartbeat (a super node, about itself): its name server host, addresses and port, the gateway
 *   addresses in front of it; liveness is how recently a newer heartbeat arrived;
 * - challenge (a name's owner, or a super node for the apex): `_acme-challenge` TXT values;
 * - certificate (a super node): the zone's certificate chain and its private key sealed to each
 *   super node (NaCl box from the signer's key to the recipient's), so the key never travels in clear.
 */
import { decodeProtectedHeader } from 'jose';
import { verifyBinding } from '../../shared/records/binding.ts';
import {
  CHALLENGE_TYP,
  type ChallengePublication,
  verifyChallenge,
  ZONE_PATTERN,
} from '../../shared/records/challenge.ts';
import { signJws, verifyJws } from '../../shared/records/jws.ts';
import { fromBase64Url } from '../../shared/bytes.ts';
import { ipToBytes } from '../../shared/ip.ts';
import type { Id } from '../../shared/id.ts';
import type { KeyPair } from '../../shared/keys.ts';

export const HEARTBEAT_TYP = 'pc2-zone-heartbeat';
export const CERTIFICATE_TYP = 'pc2-zone-certificate';
const MAX_ADDRESSES = 16;

export interface Heartbeat {
  v: 1;
  zone: string;
  seq: number;
  iat: number;
  /** This super node as a name server: the NS target, the addresses that answer, the port; null without DNS. */
  ns: { host: string; addresses: string[]; port: number } | null;
  /** Addresses (IPv4 and IPv6) of the gateways in front of this super node that passed their last check. */
  gateways: string[];
  /** When `ns` or `gateways` last changed: the SOA serial follows it. */
  changedAt: number;
  /** Takes part in ordering the zone's certificate. */
  acme: boolean;
}

export interface CertificateBundle {
  v: 1;
  zone: string;
  iat: number;
  /** PEM chain, leaf first. */
  chain: string;
  notBefore: number;
  notAfter: number;
  /** The private key (PEM) sealed to each super node: id -> base64url(nonce || box). */
  keys: Record<string, string>;
}

/** What replicates: the record, and for an owner's challenge the binding that makes the signer the owner. */
export interface ZoneItem {
  jws: string;
  binding?: string;
}

export type ZoneRecord =
  | { kind: 'heartbeat'; key: string; signer: Id; payload: Heartbeat; item: ZoneItem }
  | { kind: 'challenge'; key: string; signer: Id; payload: ChallengePublication; item: ZoneItem }
  | { kind: 'certificate'; key: string; signer: Id; payload: CertificateBundle; item: ZoneItem };

export const heartbeatKey = (id: Id | string) => `hb/${id}`;
export const challengeKey = (name: string, signer: Id | string) => `ch/${name}/${signer}`;
export const CERTIFICATE_KEY = 'cert';

/**
 * The store key an item would have, read without verifying it (to skip verifying what is already
 * stored, and to let a newer record replace a queued one); null when the item is not readable.
 */
export function unverifiedKey(item: unknown): string | null {
  if (!item || typeof item !== 'object' || typeof (item as ZoneItem).jws !== 'string') return null;
  try {
    const [header, payload] = (item as ZoneItem).jws.split('.');
    const h = JSON.parse(new TextDecoder().decode(fromBase64Url(header))) as {
      typ?: unknown;
      kid?: unknown;
    };
    const signer = String(h.kid).replace(/^did:boson:/, '');
    if (h.typ === HEARTBEAT_TYP) return heartbeatKey(signer);
    if (h.typ === CERTIFICATE_TYP) return CERTIFICATE_KEY;
    if (h.typ !== CHALLENGE_TYP) return null;
    const p = JSON.parse(new TextDecoder().decode(fromBase64Url(payload))) as { name?: unknown };
    return challengeKey(String(p.name), signer);
  } catch {
    return null;
  }
}

/** Orders two records of one key: positive when `a` supersedes `b`. */
export function compareRecords(a: ZoneRecord, b: ZoneRecord): number {
  if (a.kind === 'certificate' && b.kind === 'certificate') {
    return a.payload.notAfter - b.payload.notAfter || a.payload.iat - b.payload.iat;
  }
  return (a.payload as { seq: number }).seq - (b.payload as { seq: number }).seq;
}

export function signHeartbeat(heartbeat: Omit<Heartbeat, 'v'>, key: KeyPair): Promise<string> {
  return signJws({ v: 1, ...heartbeat }, key, HEARTBEAT_TYP);
}

export function signCertificateBundle(
  bundle: Omit<CertificateBundle, 'v'>,
  key: KeyPair,
): Promise<string> {
  return signJws({ v: 1, ...bundle }, key, CERTIFICATE_TYP);
}

const isIp = (a: unknown) => typeof a === 'string' && ipToBytes(a) !== null;
const isHost = (h: unknown) => typeof h === 'string' && ZONE_PATTERN.test(h);

function heartbeatProblem(h: Heartbeat): string | null {
  if (
    !Number.isSafeInteger(h.seq) ||
    !Number.isSafeInteger(h.iat) ||
    !Number.isSafeInteger(h.changedAt)
  )
    return 'bad seq, iat or changedAt';
  const ns = h.ns;
  if (ns === null)
    return Array.isArray(h.gateways) &&
      h.gateways.length <= MAX_ADDRESSES &&
      h.gateways.every(isIp) &&
      typeof h.acme === 'boolean'
      ? null
      : 'bad gateways or acme flag';
  if (typeof ns !== 'object' || !isHost(ns.host)) return 'bad ns host';
  if (
    !Array.isArray(ns.addresses) ||
    ns.addresses.length > MAX_ADDRESSES ||
    !ns.addresses.every(isIp)
  )
    return 'bad ns addresses';
  if (!Number.isInteger(ns.port) || ns.port < 1 || ns.port > 65535) return 'bad ns port';
  if (!Array.isArray(h.gateways) || h.gateways.length > MAX_ADDRESSES || !h.gateways.every(isIp))
    return 'bad gateways';
  if (typeof h.acme !== 'boolean') return 'bad acme flag';
  return null;
}

function bundleProblem(b: CertificateBundle): string | null {
  if (
    !Number.isSafeInteger(b.iat) ||
    !Number.isSafeInteger(b.notBefore) ||
    !Number.isSafeInteger(b.notAfter)
  )
    return 'bad times';
  if (typeof b.chain !== 'string' || !b.chain.includes('-----BEGIN CERTIFICATE-----'))
    return 'bad chain';
  if (!b.keys || typeof b.keys !== 'object' || Array.isArray(b.keys)) return 'bad keys';
  if (!Object.values(b.keys).every((k) => typeof k === 'string' && k.length < 4096))
    return 'bad sealed key';
  return null;
}

export interface VerifyContext {
  zone: string;
  /** Super nodes (registrars) whose heartbeats, apex challenges and certificates count. */
  trusted: readonly Id[];
}

export type Verified = { ok: true; record: ZoneRecord } | { ok: false; reason: string };

const fail = (reason: string): Verified => ({ ok: false, reason });

/**
 * Checks an item's signature, shape, zone and signer. Who owns a name *now* is for the caller (it
 * knows the registry); here an owner's challenge must come with a trusted binding naming its signer.
 */
export async function verifyItem(item: unknown, ctx: VerifyContext): Promise<Verified> {
  if (!item || typeof item !== 'object') return fail('an item is {jws, binding?}');
  const { jws, binding } = item as ZoneItem;
  if (typeof jws !== 'string' || (binding !== undefined && typeof binding !== 'string'))
    return fail('an item is {jws, binding?}');
  let typ: unknown;
  try {
    typ = decodeProtectedHeader(jws).typ;
  } catch {
    return fail('not a JWS');
  }
  const trusted = (id: Id) => ctx.trusted.some((t) => t.equals(id));
  if (typ === CHALLENGE_TYP) {
    const checked = await verifyChallenge(jws);
    if (!checked.ok) return fail(checked.error.message);
    const { publication, signer } = checked.value;
    if (publication.zone !== ctx.zone) return fail('challenge for another zone');
    const record = {
      kind: 'challenge',
      key: challengeKey(publication.name, signer),
      signer,
      payload: publication,
      item: { jws },
    } as const;
    if (publication.name === '')
      return trusted(signer)
        ? { ok: true, record }
        : fail('only super nodes publish apex challenges');
    const bound = await verifyBinding(binding, ctx.trusted);
    if (!bound.ok) return fail(`challenge binding: ${bound.error.message}`);
    if (bound.value.binding.name !== publication.name || !bound.value.owner.equals(signer))
      return fail('the binding does not make the signer the owner');
    return { ok: true, record: { ...record, item: { jws, binding } } };
  }
  if (typ !== HEARTBEAT_TYP && typ !== CERTIFICATE_TYP)
    return fail(`unknown record type ${String(typ)}`);
  const verified = await verifyJws<Heartbeat | CertificateBundle>(jws, typ);
  if (!verified.ok) return fail(verified.error.message);
  const { payload, signer } = verified.value;
  if (!trusted(signer)) return fail(`${signer} is not a super node of this zone`);
  if (!payload || typeof payload !== 'object' || payload.v !== 1 || payload.zone !== ctx.zone)
    return fail('unknown version or another zone');
  if (typ === HEARTBEAT_TYP) {
    const problem = heartbeatProblem(payload as Heartbeat);
    return problem
      ? fail(`heartbeat: ${problem}`)
      : {
          ok: true,
          record: {
            kind: 'heartbeat',
            key: heartbeatKey(signer),
            signer,
            payload: payload as Heartbeat,
            item: { jws },
          },
        };
  }
  const problem = bundleProblem(payload as CertificateBundle);
  return problem
    ? fail(`certificate: ${problem}`)
    : {
        ok: true,
        record: {
          kind: 'certificate',
          key: CERTIFICATE_KEY,
          signer,
          payload: payload as CertificateBundle,
          item: { jws },
        },
      };
}
