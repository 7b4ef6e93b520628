/** Answers to incoming requests, one function per method. */
import {
  DEFAULT_EXPECTED_PEERS,
  type DhtErrorBody,
  type DhtRequest,
  type DhtResponse,
  ErrorCode,
  isGlobalAddress,
  ipToBytes,
  K,
  Method,
  type NodeInfo,
  type PeerInfo,
  Want,
} from '../../shared/dht/index.ts';
import type { Id } from '../../shared/id.ts';
import type { DhtStorage } from './storage.ts';
import type { TokenManager } from './tokens.ts';
import type { Remote } from './transport.ts';

export interface HandlerContext {
  storage: DhtStorage;
  tokens: TokenManager;
  developerMode: boolean;
  /** Closest verified nodes of the IPv4 / IPv6 table (empty when we have no such table). */
  closest4: (target: Id) => NodeInfo[];
  closest6: (target: Id) => NodeInfo[];
}

/** Room left for `p` in one datagram once the envelope and the rest are counted (IPv6, the smaller cap). */
const PEER_BYTES_BUDGET = 1000;

function nodeLists(
  ctx: HandlerContext,
  target: Id,
  want: number,
  from: Remote,
  withToken: boolean,
) {
  return {
    nodes4: want & Want.IPV4 ? ctx.closest4(target).slice(0, K) : [],
    // 3.0.0 sizes this list from the IPv4 bit; we read the IPv6 bit, as the protocol means.
    nodes6: want & Want.IPV6 ? ctx.closest6(target).slice(0, K) : [],
    token:
      withToken && want & Want.TOKEN
        ? ctx.tokens.issue(from.id, from.host, from.port, target)
        : undefined,
  };
}

function fitPeers(peers: PeerInfo[]): PeerInfo[] {
  const out: PeerInfo[] = [];
  let used = 0;
  for (const p of peers) {
    const size =
      32 +
      24 +
      64 +
      9 +
      8 +
      (p.nodeId ? 32 + 64 + 6 : 0) +
      p.endpoint.length * 3 +
      (p.extra?.length ?? 0) +
      24;
    if (used + size > PEER_BYTES_BUDGET) break;
    used += size;
    out.push(p);
  }
  return out;
}

const fromGlobal = (ctx: HandlerContext, from: Remote): boolean =>
  ctx.developerMode || isGlobalAddress(ipToBytes(from.host)!);

export function handleRequest(
  ctx: HandlerContext,
  request: DhtRequest,
  from: Remote,
): DhtResponse | DhtErrorBody {
  switch (request.method) {
    case Method.PING:
      return { method: Method.PING };
    case Method.FIND_NODE:
      return {
        method: Method.FIND_NODE,
        ...nodeLists(ctx, request.target, request.want, from, true),
      };
    case Method.FIND_VALUE: {
      const value = ctx.storage.getValue(request.target, request.cas);
      if (value) return { method: Method.FIND_VALUE, nodes4: [], nodes6: [], value };
      // 3.0 puts no token in FIND_VALUE answers; peers get tokens from FIND_NODE.
      return {
        method: Method.FIND_VALUE,
        ...nodeLists(ctx, request.target, request.want, from, false),
      };
    }
    case Method.FIND_PEER: {
      const expected =
        request.expected && request.expected > 0 ? request.expected : DEFAULT_EXPECTED_PEERS;
      const peers = fitPeers(ctx.storage.getPeers(request.target, expected, request.cas));
      if (peers.length > 0) return { method: Method.FIND_PEER, nodes4: [], nodes6: [], peers };
      return {
        method: Method.FIND_PEER,
        peers: [],
        ...nodeLists(ctx, request.target, request.want, from, false),
      };
    }
    case Method.STORE_VALUE: {
      const { value } = request;
      if (!ctx.tokens.verify(request.token, from.id, from.host, from.port, value.id)) {
        return { code: ErrorCode.INVALID_TOKEN, message: 'invalid token for STORE_VALUE' };
      }
      const outcome = ctx.storage.putValue(value, request.cas);
      return outcome ?? { method: Method.STORE_VALUE };
    }
    case Method.ANNOUNCE_PEER: {
      const { peer } = request;
      if (!ctx.tokens.verify(request.token, from.id, from.host, from.port, peer.id)) {
        return { code: ErrorCode.INVALID_TOKEN, message: 'invalid token for ANNOUNCE_PEER' };
      }
      // Like stock 3.0: announces from loopback / private addresses are ignored outside developer mode.
      if (!fromGlobal(ctx, from)) return { method: Method.ANNOUNCE_PEER };
      const outcome = ctx.storage.putPeer(peer, request.cas);
      return outcome ?? { method: Method.ANNOUNCE_PEER };
    }
  }
}
