/**
 * Encoder and decoder of Boson 3.0 DHT messages (CBOR maps, see wire.ts). The encoder copies the
 * Java length forms (indefinite envelope, bodies and NodeInfo; definite `n4`/`n6`/`p` lists) and key
 * order, so a decoded message re-encodes byte-exactly. The decoder never throws: malformed input is an
 * error result, and it accepts either length form and any key order.
 */
import {
  type CborMapObject,
  type CborValue,
  decodeCbor,
  definite,
  encodeCbor,
  indefinite,
} from '../cbor/index.ts';
import { err, ok, type Result, SharedError } from '../errors.ts';
import { isMethod, Method, MessageType, METHOD_MASK, TYPE_MASK } from './constants.ts';
import type {
  WireErrorBody,
  WireInt,
  WireMessage,
  WireNodeInfo,
  WirePeerInfo,
  WireRequestBody,
  WireResponseBody,
} from './wire.ts';

/** Key order of every body, as the Java encoder writes them. */
const REQUEST_KEYS = [
  't',
  'w',
  'tok',
  'cas',
  'k',
  'rec',
  'n',
  'seq',
  'o',
  'os',
  'sig',
  'f',
  'e',
  'ex',
  'v',
] as const;
const RESPONSE_KEYS = ['n4', 'n6', 'tok', 'k', 'rec', 'n', 'seq', 'sig', 'v', 'p'] as const;
const PEER_KEYS = ['id', 'n', 'seq', 'o', 'os', 'sig', 'f', 'e', 'ex'] as const;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(1n << 63n);
const UINT64_MAX = (1n << 64n) - 1n;

function orderedMap(
  source: object,
  keys: readonly string[],
  convert?: (key: string, value: unknown) => CborValue,
): CborMapObject {
  const out: CborMapObject = {};
  const record = source as Record<string, unknown>;
  for (const key of keys) {
    const value = record[key];
    if (value !== undefined) out[key] = convert ? convert(key, value) : (value as CborValue);
  }
  return indefinite(out);
}

const nodeList = (nodes: WireNodeInfo[]): CborValue =>
  definite(nodes.map(([id, ip, port]) => indefinite([id, ip, port])));

/** The CBOR bytes of a wire message. Throws only on a programming error (a value of the wrong type). */
export function encodeMessage(message: WireMessage): Uint8Array {
  const envelope: CborMapObject = {};
  envelope.y = message.y;
  envelope.t = message.t;
  if (message.q) envelope.q = orderedMap(message.q, REQUEST_KEYS);
  else if (message.r) {
    envelope.r = orderedMap(message.r, RESPONSE_KEYS, (key, value) => {
      if (key === 'n4' || key === 'n6') return nodeList(value as WireNodeInfo[]);
      if (key === 'p')
        return definite((value as WirePeerInfo[]).map((peer) => orderedMap(peer, PEER_KEYS)));
      return value as CborValue;
    });
  } else if (message.e) envelope.e = orderedMap(message.e, ['c', 'm']);
  if (message.v) envelope.v = message.v;
  return encodeCbor(indefinite(envelope), { defaultLengthForm: 'indefinite' });
}

class Malformed extends Error {}

const fail = (what: string): never => {
  throw new Malformed(what);
};

const isObject = (v: unknown): v is Record<string, CborValue> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  !(v instanceof Uint8Array) &&
  !(v instanceof Map);

function int32(v: CborValue, key: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX)
    fail(`${key} must be a 32-bit integer`);
  return v as number;
}

function int64(v: CborValue, key: string): WireInt {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint' && v >= INT64_MIN && v <= UINT64_MAX) return v;
  return fail(`${key} must be a 64-bit integer`);
}

function bytes(v: CborValue, key: string, length?: number): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(`${key} must be a byte string`);
  const b = v as Uint8Array;
  if (length !== undefined && b.length !== length) fail(`${key} must be ${length} bytes`);
  return b;
}

function text(v: CborValue, key: string): string {
  if (typeof v !== 'string') fail(`${key} must be a text string`);
  return v as string;
}

function nodeInfo(v: CborValue): WireNodeInfo {
  if (!Array.isArray(v) || v.length !== 3) fail('a NodeInfo is a 3-element array');
  const [id, ip, port] = v as CborValue[];
  const ipBytes = bytes(ip, 'NodeInfo ip');
  if (ipBytes.length !== 4 && ipBytes.length !== 16) fail('a NodeInfo ip is 4 or 16 bytes');
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)
    fail('a NodeInfo port is 0..65535');
  return [bytes(id, 'NodeInfo id', 32), ipBytes, port as number];
}

function nodes(v: CborValue, key: string): WireNodeInfo[] {
  if (!Array.isArray(v)) fail(`${key} must be an array`);
  return (v as CborValue[]).map(nodeInfo);
}

/** Field readers by key; `e` depends on the method and is handled by the caller. */
const FIELD: Record<string, (v: CborValue, key: string) => unknown> = {
  t: (v, k) => bytes(v, k, 32),
  w: int32,
  tok: int32,
  cas: int32,
  k: (v, k) => bytes(v, k, 32),
  rec: (v, k) => bytes(v, k, 32),
  id: (v, k) => bytes(v, k, 32),
  n: (v, k) => bytes(v, k, 24),
  seq: int32,
  o: (v, k) => bytes(v, k, 32),
  os: (v, k) => bytes(v, k, 64),
  sig: (v, k) => bytes(v, k, 64),
  f: int64,
  ex: bytes,
  v: bytes,
  n4: nodes,
  n6: nodes,
};

function readFields<T>(
  body: CborValue,
  keys: readonly string[],
  what: string,
  readE?: (v: CborValue) => unknown,
): T {
  if (!isObject(body)) fail(`${what} must be a map with text keys`);
  const source = body as Record<string, CborValue>;
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    if (!Object.prototype.hasOwnProperty.call(source, key)) continue;
    const value = source[key];
    if (key === 'e') out.e = readE ? readE(value) : fail(`${what} has an unexpected "e"`);
    else if (key === 'p')
      out.p = Array.isArray(value) ? value.map(peer) : fail('p must be an array');
    else out[key] = FIELD[key](value, key);
  }
  return out as T;
}

function peer(v: CborValue): WirePeerInfo {
  const p = readFields<WirePeerInfo>(v, PEER_KEYS, 'a PeerInfo', (e) => text(e, 'e'));
  if (!p.id || !p.n || !p.sig || p.f === undefined || p.e === undefined)
    fail('a PeerInfo needs id, n, sig, f and e');
  return p;
}

function requestBody(method: number, body: CborValue): WireRequestBody {
  const readE =
    method === Method.FIND_PEER
      ? (e: CborValue) => int32(e, 'e')
      : method === Method.ANNOUNCE_PEER
        ? (e: CborValue) => text(e, 'e')
        : undefined;
  return readFields<WireRequestBody>(body, REQUEST_KEYS, 'a request body', readE);
}

function errorBody(body: CborValue): WireErrorBody {
  if (!isObject(body)) fail('an error body must be a map');
  const source = body as Record<string, CborValue>;
  const out: WireErrorBody = { c: int32(source.c, 'c') };
  if (source.m !== undefined) out.m = text(source.m, 'm');
  return out;
}

function txid(v: CborValue): WireInt {
  const t = int64(v, 't');
  if (t === 0 || t === 0n) fail('t must be non-zero');
  return t;
}

/** Decodes one DHT message. Never throws. */
export function decodeMessage(data: Uint8Array): Result<WireMessage> {
  const cbor = decodeCbor(data, { maxDepth: 8 });
  if (!cbor.ok) return cbor;
  try {
    const env = cbor.value;
    if (!isObject(env)) fail('a message must be a map with text keys');
    const source = env as Record<string, CborValue>;
    if (source.y === undefined || source.t === undefined) fail('a message needs y and t');
    const y = int32(source.y, 'y');
    const type = y & TYPE_MASK;
    const method = y & METHOD_MASK;
    if (
      y < 0 ||
      y > 0xff ||
      (type !== MessageType.REQUEST && type !== MessageType.RESPONSE && type !== MessageType.ERROR)
    ) {
      fail(`unknown message type in y = ${y}`);
    }
    const bodies = ['q', 'r', 'e'].filter((k) => source[k] !== undefined);
    if (bodies.length > 1) fail('a message has at most one of q, r, e');
    const message: WireMessage = { y, t: txid(source.t) };
    if (source.q !== undefined) {
      if (type !== MessageType.REQUEST) fail('q in a message that is not a request');
      message.q = requestBody(method, source.q);
    } else if (source.r !== undefined) {
      if (type !== MessageType.RESPONSE) fail('r in a message that is not a response');
      message.r = readFields<WireResponseBody>(source.r, RESPONSE_KEYS, 'a response body');
    } else if (source.e !== undefined) {
      if (type !== MessageType.ERROR) fail('e in a message that is not an error');
      message.e = errorBody(source.e);
    } else if (type === MessageType.ERROR) {
      fail('an error message needs e');
    }
    if (type !== MessageType.ERROR && !isMethod(method)) fail(`unknown method ${method}`);
    if (source.v !== undefined) {
      const v = int64(source.v, 'v');
      if (typeof v !== 'number' || v < 0 || v > 0xffffffff)
        fail('v must be an unsigned 32-bit integer');
      if (v !== 0) message.v = v as number;
    }
    return ok(message);
  } catch (e) {
    if (e instanceof Malformed)
      return err(new SharedError('CBOR_MALFORMED', `DHT message: ${e.message}`));
    return err(new SharedError('CBOR_MALFORMED', `DHT message: ${(e as Error).message}`));
  }
}
