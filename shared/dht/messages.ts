/**
 * Typed DHT messages on top of the wire objects: requests, responses and errors with domain values
 * (Id, NodeInfo, Value, PeerInfo). `toWireMessage` / `fromWireMessage` convert; the latter never throws.
 */
import { err, ok, type Result, SharedError } from '../errors.ts';
import { Id } from '../id.ts';
import {
  isMethod,
  Method,
  MessageType,
  type MethodCode,
  METHOD_MASK,
  TYPE_MASK,
} from './constants.ts';
import { NodeInfo } from './node-info.ts';
import { PeerInfo } from './peer-info.ts';
import { Value } from './value.ts';
import type {
  WireInt,
  WireMessage,
  WireNodeInfo,
  WireRequestBody,
  WireResponseBody,
} from './wire.ts';

export type DhtRequest =
  | { method: typeof Method.PING }
  | { method: typeof Method.FIND_NODE; target: Id; want: number }
  | { method: typeof Method.FIND_VALUE; target: Id; want: number; cas?: number }
  | { method: typeof Method.FIND_PEER; target: Id; want: number; cas?: number; expected?: number }
  | { method: typeof Method.STORE_VALUE; token: number; cas?: number; value: Value }
  | { method: typeof Method.ANNOUNCE_PEER; token: number; cas?: number; peer: PeerInfo };

export interface NodeLists {
  nodes4: NodeInfo[];
  nodes6: NodeInfo[];
  token?: number;
}

export type DhtResponse =
  | { method: typeof Method.PING }
  | ({ method: typeof Method.FIND_NODE } & NodeLists)
  | ({ method: typeof Method.FIND_VALUE; value?: Value } & NodeLists)
  | ({ method: typeof Method.FIND_PEER; peers: PeerInfo[] } & NodeLists)
  | { method: typeof Method.STORE_VALUE }
  | { method: typeof Method.ANNOUNCE_PEER };

export interface DhtErrorBody {
  code: number;
  message?: string;
}

interface Envelope {
  txid: WireInt;
  version?: number;
}

export type DhtMessage =
  | (Envelope & { kind: 'request'; request: DhtRequest })
  | (Envelope & { kind: 'response'; response: DhtResponse })
  | (Envelope & { kind: 'error'; method: number; error: DhtErrorBody });

export const methodOf = (message: DhtMessage): number =>
  message.kind === 'request'
    ? message.request.method
    : message.kind === 'response'
      ? message.response.method
      : message.method;

function requestBody(request: DhtRequest): WireRequestBody | undefined {
  switch (request.method) {
    case Method.PING:
      return undefined;
    case Method.FIND_NODE:
      return { t: request.target.bytes, w: request.want };
    case Method.FIND_VALUE:
      return { t: request.target.bytes, w: request.want, cas: request.cas };
    case Method.FIND_PEER:
      return { t: request.target.bytes, w: request.want, cas: request.cas, e: request.expected };
    case Method.STORE_VALUE:
      return { tok: request.token, cas: request.cas, ...request.value.toWire() };
    case Method.ANNOUNCE_PEER: {
      const { id, ...rest } = request.peer.toWire();
      return { tok: request.token, cas: request.cas, k: id, ...rest };
    }
  }
}

function responseBody(response: DhtResponse): WireResponseBody | undefined {
  if (
    response.method === Method.PING ||
    response.method === Method.STORE_VALUE ||
    response.method === Method.ANNOUNCE_PEER
  ) {
    return undefined;
  }
  const body: WireResponseBody = {};
  if (response.nodes4.length > 0) body.n4 = response.nodes4.map((n) => n.toWire());
  if (response.nodes6.length > 0) body.n6 = response.nodes6.map((n) => n.toWire());
  if (response.token) body.tok = response.token;
  if (response.method === Method.FIND_VALUE && response.value)
    Object.assign(body, response.value.toWire());
  if (response.method === Method.FIND_PEER && response.peers.length > 0)
    body.p = response.peers.map((p) => p.toWire());
  return body;
}

export function toWireMessage(message: DhtMessage): WireMessage {
  const base = { t: message.txid, v: message.version };
  switch (message.kind) {
    case 'request':
      return {
        y: MessageType.REQUEST | message.request.method,
        ...base,
        q: requestBody(message.request),
      };
    case 'response':
      return {
        y: MessageType.RESPONSE | message.response.method,
        ...base,
        r: responseBody(message.response),
      };
    case 'error':
      return {
        y: MessageType.ERROR | (message.method & METHOD_MASK),
        ...base,
        e: { c: message.error.code, m: message.error.message },
      };
  }
}

const invalid = (what: string) => err(new SharedError('CBOR_MALFORMED', `DHT message: ${what}`));

const nodeList = (list: WireNodeInfo[] | undefined): NodeInfo[] =>
  (list ?? []).map((n) => NodeInfo.fromWire(n));

function toRequest(method: MethodCode, q: WireRequestBody): Result<DhtRequest> {
  switch (method) {
    case Method.PING:
      return ok({ method });
    case Method.FIND_NODE:
    case Method.FIND_VALUE:
    case Method.FIND_PEER: {
      if (!q.t || q.w === undefined) return invalid('a find request needs t and w');
      const target = new Id(q.t);
      if (method === Method.FIND_NODE) return ok({ method, target, want: q.w });
      if (method === Method.FIND_VALUE) return ok({ method, target, want: q.w, cas: q.cas });
      return ok({ method, target, want: q.w, cas: q.cas, expected: q.e as number | undefined });
    }
    case Method.STORE_VALUE: {
      if (q.tok === undefined) return invalid('STORE_VALUE needs tok');
      const value = Value.fromWire(q);
      return value.ok ? ok({ method, token: q.tok, cas: q.cas, value: value.value }) : value;
    }
    case Method.ANNOUNCE_PEER: {
      if (
        q.tok === undefined ||
        !q.k ||
        !q.n ||
        !q.sig ||
        q.f === undefined ||
        typeof q.e !== 'string'
      ) {
        return invalid('ANNOUNCE_PEER needs tok, k, n, sig, f and e');
      }
      const peer = PeerInfo.fromWire({
        id: q.k,
        n: q.n,
        seq: q.seq,
        o: q.o,
        os: q.os,
        sig: q.sig,
        f: q.f,
        e: q.e,
        ex: q.ex,
      });
      return peer.ok ? ok({ method, token: q.tok, cas: q.cas, peer: peer.value }) : peer;
    }
  }
}

function toResponse(method: MethodCode, r: WireResponseBody): Result<DhtResponse> {
  if (method === Method.PING || method === Method.STORE_VALUE || method === Method.ANNOUNCE_PEER)
    return ok({ method });
  const lists: NodeLists = { nodes4: nodeList(r.n4), nodes6: nodeList(r.n6), token: r.tok };
  if (method === Method.FIND_NODE) return ok({ method, ...lists });
  if (method === Method.FIND_VALUE) {
    if (r.v === undefined) return ok({ method, ...lists });
    const value = Value.fromWire(r);
    return value.ok ? ok({ method, ...lists, value: value.value }) : value;
  }
  const peers: PeerInfo[] = [];
  for (const p of r.p ?? []) {
    const peer = PeerInfo.fromWire(p);
    if (!peer.ok) return peer;
    peers.push(peer.value);
  }
  return ok({ method, ...lists, peers });
}

/** The typed form of a decoded wire message. Never throws. */
export function fromWireMessage(wire: WireMessage): Result<DhtMessage> {
  const method = wire.y & METHOD_MASK;
  const type = wire.y & TYPE_MASK;
  const envelope: Envelope = { txid: wire.t, version: wire.v };
  try {
    if (type === MessageType.ERROR) {
      if (!wire.e) return invalid('an error needs e');
      return ok({
        ...envelope,
        kind: 'error',
        method,
        error: { code: wire.e.c, message: wire.e.m },
      });
    }
    if (!isMethod(method)) return invalid(`unknown method ${method}`);
    if (type === MessageType.REQUEST) {
      const request = toRequest(method, wire.q ?? {});
      return request.ok ? ok({ ...envelope, kind: 'request', request: request.value }) : request;
    }
    const response = toResponse(method, wire.r ?? {});
    return response.ok ? ok({ ...envelope, kind: 'response', response: response.value }) : response;
  } catch (e) {
    return invalid((e as Error).message);
  }
}
