import { describe, expect, it } from 'vitest';
import messages from '../vectors/boson3-messages.json' with { type: 'json' };
import { base58Encode } from '../../shared/base58.ts';
import { fromHex, toBase64Url, toHex } from '../../shared/bytes.ts';
import {
  bytesToIp,
  decodeMessage,
  encodeMessage,
  fromWireMessage,
  ipToBytes,
  isGlobalAddress,
  JAVA_VERSION,
  Method,
  toWireMessage,
  type WireMessage,
} from '../../shared/dht/index.ts';
import { Id } from '../../shared/id.ts';

/** A decoded wire field against the JSON debug form: ids Base58, binaries Base64url, IPs as text. */
function matchesJson(decoded: unknown, json: unknown): boolean {
  if (decoded instanceof Uint8Array && typeof json === 'string') {
    const ip = ipToBytes(json);
    if (ip && (decoded.length === 4 || decoded.length === 16)) return toHex(ip) === toHex(decoded);
    return base58Encode(decoded) === json || toBase64Url(decoded) === json;
  }
  if (Array.isArray(json)) {
    return (
      Array.isArray(decoded) &&
      decoded.length === json.length &&
      json.every((j, i) => matchesJson(decoded[i], j))
    );
  }
  if (json !== null && typeof json === 'object') {
    if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded)) return false;
    const obj = decoded as Record<string, unknown>;
    const keys = Object.keys(json);
    const present = Object.keys(obj).filter((k) => obj[k] !== undefined);
    return (
      keys.length === present.length &&
      keys.every((k) => matchesJson(obj[k], (json as Record<string, unknown>)[k]))
    );
  }
  return decoded === json;
}

describe('DHT wire layer against the Boson 3.0.0 vectors', () => {
  for (const v of messages.vectors) {
    it(`${v.id}: decodes to its JSON fields and re-encodes byte-exactly (wire and typed)`, () => {
      const bytes = fromHex(v.cborHex);
      const decoded = decodeMessage(bytes);
      if (!decoded.ok) throw decoded.error;
      expect(matchesJson(decoded.value, JSON.parse(v.json))).toBe(true);
      expect(toHex(encodeMessage(decoded.value))).toBe(v.cborHex);
      const typed = fromWireMessage(decoded.value);
      if (!typed.ok) throw typed.error;
      expect(typed.value.version).toBe(JAVA_VERSION);
      expect(toHex(encodeMessage(toWireMessage(typed.value)))).toBe(v.cborHex);
    });
  }

  it('keeps 64-bit transaction ids exact and reads the typed fields', () => {
    const v = messages.vectors.find((m) => m.id === 'findValueRequests/jsonV46Cas')!;
    const decoded = decodeMessage(fromHex(v.cborHex));
    if (!decoded.ok) throw decoded.error;
    expect(decoded.value.t).toBe(99876543210);
    const typed = fromWireMessage(decoded.value);
    if (
      !typed.ok ||
      typed.value.kind !== 'request' ||
      typed.value.request.method !== Method.FIND_VALUE
    )
      throw new Error('not FIND_VALUE');
    expect(typed.value.request.target.toString()).toBe(
      'CA2GZdWvehqS6zH16xpUzNRgHpqAayo1asd9xUAJwRmB',
    );
    expect(typed.value.request.cas).toBe(2);
    expect(typed.value.request.want).toBe(3);
    const huge: WireMessage = { y: 0x21, t: 18446744073709551615n };
    const back = decodeMessage(encodeMessage(huge));
    expect(back.ok && back.value.t).toBe(18446744073709551615n);
  });

  it('reads node lists, tokens and errors into domain objects', () => {
    const v = messages.vectors.find((m) => m.id === 'findNodeResponses/jsonV46Token')!;
    const decoded = decodeMessage(fromHex(v.cborHex));
    if (!decoded.ok) throw decoded.error;
    const typed = fromWireMessage(decoded.value);
    if (
      !typed.ok ||
      typed.value.kind !== 'response' ||
      typed.value.response.method !== Method.FIND_NODE
    )
      throw new Error('not FIND_NODE');
    const r = typed.value.response;
    expect(r.nodes4.length).toBe(8);
    expect(r.nodes6.length).toBe(8);
    expect(r.token).toBe(1234567890);
    expect(r.nodes4[0].host).toBe('192.168.1.1');
    expect(r.nodes4[0].port).toBe(65535);
    expect(r.nodes6[0].host).toBe('2001:db8:85a3:8070:6543:8a2e:370:7381');
    const e = messages.vectors.find((m) => m.id === 'errors/jsonWithMessage')!;
    const err = decodeMessage(fromHex(e.cborHex));
    if (!err.ok) throw err.error;
    const typedErr = fromWireMessage(err.value);
    if (!typedErr.ok || typedErr.value.kind !== 'error') throw new Error('not an error');
    expect(typedErr.value.method).toBe(Method.FIND_NODE);
    expect(typedErr.value.error).toEqual({ code: -1000, message: 'Test error message' });
  });

  it('decodes definite-length envelopes and any key order', () => {
    // {"t": 10, "y": 33} with definite lengths: a peer need not copy the Java forms.
    const decoded = decodeMessage(fromHex('a261740a61791821'));
    expect(decoded.ok && decoded.value).toEqual({ y: 33, t: 10 });
  });

  it('returns errors, never throws, for malformed messages', () => {
    const bad = [
      '',
      'ff',
      '00',
      'a0',
      'a161790a',
      'a2617918216174 00'.replace(/ /g, ''),
      'a361791821617401617101', // q is not a map
      'a361791841617401617101', // r is not a map
      'a2617918276174 01'.replace(/ /g, ''), // unknown method 7
      'a3617918226174016171a16174 4101'.replace(/ /g, ''), // short target id
      'a361790261740161 65a0'.replace(/ /g, ''), // error body without c
    ];
    for (const hex of bad) expect(decodeMessage(fromHex(hex)).ok).toBe(false);
    for (const v of messages.vectors) {
      const bytes = fromHex(v.cborHex);
      for (let n = 0; n < bytes.length; n++)
        expect(decodeMessage(bytes.subarray(0, n)).ok).toBe(false);
    }
    for (let i = 0; i < 3000; i++) {
      const bytes = crypto.getRandomValues(new Uint8Array(1 + (i % 80)));
      const result = decodeMessage(bytes);
      if (result.ok) expect(fromWireMessage(result.value).ok).toBeTypeOf('boolean');
    }
  });

  it('builds typed requests that decode back to themselves', () => {
    const target = Id.parse('HVG7zCqPqKVyxwwwKtC43EasxA3U7uVDLDU2EkRdKoA5');
    const wire = toWireMessage({
      kind: 'request',
      txid: 7,
      request: { method: Method.FIND_PEER, target, want: 1, expected: 4 },
    });
    const back = decodeMessage(encodeMessage(wire));
    if (!back.ok) throw back.error;
    const typed = fromWireMessage(back.value);
    if (
      !typed.ok ||
      typed.value.kind !== 'request' ||
      typed.value.request.method !== Method.FIND_PEER
    )
      throw new Error('not FIND_PEER');
    expect(typed.value.request.target.equals(target)).toBe(true);
    expect(typed.value.request.expected).toBe(4);
    expect(typed.value.version).toBeUndefined();
  });
});

describe('IP helpers', () => {
  it('converts between text and bytes', () => {
    expect(bytesToIp(ipToBytes('10.0.0.1')!)).toBe('10.0.0.1');
    expect(bytesToIp(ipToBytes('::1')!)).toBe('::1');
    expect(bytesToIp(ipToBytes('2001:0db8:0:0:0:0:0:1')!)).toBe('2001:db8::1');
    expect(bytesToIp(ipToBytes('::ffff:1.2.3.4')!)).toBe('::ffff:102:304');
    expect(ipToBytes('1.2.3')).toBeNull();
    expect(ipToBytes('256.1.1.1')).toBeNull();
    expect(ipToBytes('1::2::3')).toBeNull();
    expect(ipToBytes('example.com')).toBeNull();
  });

  it('tells global addresses from loopback and private ones', () => {
    for (const a of ['8.8.8.8', '2606:4700::1111'])
      expect(isGlobalAddress(ipToBytes(a)!)).toBe(true);
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '192.168.1.1',
      '172.16.0.1',
      '100.64.0.1',
      '::1',
      'fe80::1',
      'fd00::1',
      '2001:db8::1',
      '0.0.0.0',
    ]) {
      expect(isGlobalAddress(ipToBytes(a)!)).toBe(false);
    }
  });
});
