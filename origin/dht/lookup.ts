/**
 * Iterative lookup: keeps the K closest nodes that answered and up to 3K candidates, with a bounded
 * number of requests in flight. A request that stalls (adaptive timer) stops counting against that
 * bound, so a dead node costs a stall delay, not a timeout. Ends when no candidate is closer than the
 * K-th closest answer, or after 3K requests.
 */
import { type DhtRequest, type DhtResponse, K, type NodeInfo } from '../../shared/dht/index.ts';
import type { Id } from '../../shared/id.ts';
import type { RpcReply } from './rpc.ts';

export interface LookupParams {
  target: Id;
  request: DhtRequest;
  seeds: NodeInfo[];
  concurrency: number;
  call: (node: NodeInfo, request: DhtRequest, onStall: () => void) => Promise<RpcReply>;
  /** Nodes from answers are admitted only if this says so (address rules, not ourselves). */
  admit: (node: NodeInfo) => boolean;
  /** Sees every answer; returning true ends the lookup early (a value or enough peers found). */
  onResponse?: (from: NodeInfo, response: DhtResponse) => boolean;
  /** Which node list of an answer feeds the lookup. Default n4. */
  family?: 4 | 6;
  /**
   * How long the end waits for stalled requests to nodes closer than the K-th answer (a slow node is
   * often the very node sought). Default 0.
   */
  stallGraceMs?: number;
}

export interface Answered {
  node: NodeInfo;
  token?: number;
}

export interface LookupResult {
  /** Up to K closest nodes that answered, closest first, each with the token it gave. */
  closest: Answered[];
  /** Depth of the closest answer: 1 = it was in our own table. */
  hops: number;
  /** Requests sent. */
  messages: number;
  /** Ended early because onResponse said so. */
  stoppedEarly: boolean;
}

interface Candidate {
  node: NodeInfo;
  depth: number;
  state: 'new' | 'active' | 'stalled' | 'answered' | 'failed';
  token?: number;
}

export function runLookup(params: LookupParams): Promise<LookupResult> {
  const { target, concurrency } = params;
  const all = new Map<string, Candidate>();
  const answered: Candidate[] = [];
  let messages = 0;
  let active = 0;
  let stoppedEarly = false;
  let done = false;
  let grace: ReturnType<typeof setTimeout> | undefined;

  const closer = (a: Candidate, b: Candidate) => target.threeWayCompare(a.node.id, b.node.id);
  const add = (node: NodeInfo, depth: number) => {
    const key = node.id.toString();
    if (all.has(key)) return;
    all.set(key, { node, depth, state: 'new' });
  };
  for (const seed of params.seeds) add(seed, 1);

  return new Promise<LookupResult>((resolve) => {
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(grace);
      answered.sort(closer);
      const closest = answered.slice(0, K);
      resolve({
        closest: closest.map((c) => ({ node: c.node, token: c.token })),
        hops: closest[0]?.depth ?? 0,
        messages,
        stoppedEarly,
      });
    };

    const nextCandidates = (): Candidate[] => {
      const fresh = [...all.values()].filter((c) => c.state === 'new').sort(closer);
      // Keep at most 3K unqueried candidates: the farther ones can never matter.
      for (const c of fresh.slice(3 * K)) all.delete(c.node.id.toString());
      return fresh.slice(0, 3 * K);
    };

    const pump = () => {
      if (done) return;
      answered.sort(closer);
      const kth = answered.length >= K ? answered[K - 1] : undefined;
      for (const c of nextCandidates()) {
        if (active >= concurrency || messages >= 3 * K) break;
        if (kth && closer(c, kth) >= 0) break;
        send(c);
      }
      if (active > 0) return;
      const waitingClose = [...all.values()].some(
        (c) => c.state === 'stalled' && (!kth || closer(c, kth) < 0),
      );
      if (!waitingClose || !params.stallGraceMs) return finish();
      grace ??= setTimeout(finish, params.stallGraceMs);
    };

    const send = (c: Candidate) => {
      // New work: the grace period (if any) starts over when this work is done.
      clearTimeout(grace);
      grace = undefined;
      c.state = 'active';
      active++;
      messages++;
      const release = () => {
        if (c.state === 'active') active--;
      };
      params
        .call(c.node, params.request, () => {
          if (c.state !== 'active') return;
          c.state = 'stalled';
          active--;
          pump();
        })
        .then(
          ({ response }) => {
            release();
            c.state = 'answered';
            if ('token' in response) c.token = response.token;
            answered.push(c);
            if (params.onResponse?.(c.node, response)) {
              stoppedEarly = true;
              return finish();
            }
            if ('nodes4' in response) {
              const list = params.family === 6 ? response.nodes6 : response.nodes4;
              for (const n of list) if (params.admit(n)) add(n, c.depth + 1);
            }
            pump();
          },
          () => {
            release();
            c.state = 'failed';
            pump();
          },
        );
    };

    pump();
  });
}
