import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex, utf8Encode } from '../../shared/bytes.ts';
import { CryptoBox } from '../../shared/crypto/box.ts';
import { CryptoContext } from '../../shared/crypto/context.ts';
import { Id } from '../../shared/id.ts';
import { KeyPair } from '../../shared/keys.ts';
import {
  ACK_BIT,
  bytesToIp,
  decodeChallenge,
  encodeChallenge,
  FrameReader,
  ipToBytes,
  newChallenge,
  BOX_OVERHEAD,
  decodeFrame,
  encodeAttach,
  encodeAuth,
  encodeAuthAck,
  encodeConnect,
  encodeConnectAck,
  encodeData,
  encodeEmpty,
  encodeError,
  type Frame,
  type FrameKind,
  HEADER_BYTES,
  MAX_DATA_BYTES,
  MAX_FRAME_BYTES,
  maxPadding,
  newSessionKeyPair,
  parseTypeByte,
  randomTypeByte,
  sessionContext,
  typeRange,
} from '../../shared/tunnel/index.ts';

const device = KeyPair.generate();
const service = KeyPair.generate();
const clientSession = newSessionKeyPair();
const serverSession = newSessionKeyPair();

const peerPair = () =>
  [
    CryptoContext.between(device.x25519SecretKey, service.x25519PublicKey),
    CryptoContext.between(service.x25519SecretKey, device.x25519PublicKey),
  ] as const;
const sessionPair = () =>
  [
    sessionContext(clientSession, serverSession.publicKey),
    sessionContext(serverSession, clientSession.publicKey),
  ] as const;

function decodeOk(frame: Uint8Array, keys: Parameters<typeof decodeFrame>[1]): Frame {
  const r = decodeFrame(frame, keys);
  if (!r.ok) throw r.error;
  return r.value;
}

const sizeOf = (frame: Uint8Array) => (frame[0] << 8) | frame[1];
const nextMultiple = (n: number) => Math.ceil(n / 256) * 256;

describe('type byte', () => {
  const kinds: FrameKind[] = ['AUTH', 'ATTACH', 'PING', 'CONNECT', 'DISCONNECT', 'DATA', 'ERROR'];

  it('is random inside the kind range, with bit 0x80 for an ACK', () => {
    for (const kind of kinds) {
      const [low, high] = typeRange(kind);
      const seen = new Set<number>();
      for (let i = 0; i < 200; i++) {
        const b = randomTypeByte(kind, false);
        expect(b >= low && b <= high).toBe(true);
        seen.add(b);
        expect(parseTypeByte(b)).toEqual({ kind, ack: false });
      }
      expect(seen.size).toBeGreaterThan(1);
      if (kind !== 'DATA' && kind !== 'ERROR')
        expect(parseTypeByte(randomTypeByte(kind, true))).toEqual({ kind, ack: true });
    }
  });

  it('DATA and ERROR have no ACK form', () => {
    for (let b = 0x40 | ACK_BIT; b <= 0xff; b++) expect(parseTypeByte(b)).toBeNull();
    expect(parseTypeByte(0x3f | ACK_BIT)).toEqual({ kind: 'DISCONNECT', ack: true });
  });
});

describe('frames round-trip', () => {
  it('AUTH and AUTH_ACK under the peer context', () => {
    const [client, server] = peerPair();
    const signature = device.sign(utf8Encode('challenge'));
    const auth = encodeAuth(client, {
      deviceId: device.id,
      version: 1,
      userId: service.id,
      sessionKey: clientSession.publicKey,
      nameAccess: 1,
      signature,
    });
    const got = decodeOk(auth, { peerFor: (id) => (id.equals(device.id) ? server : null) });
    expect(got.type).toBe('AUTH');
    if (got.type !== 'AUTH') return;
    expect(got.deviceId.equals(device.id)).toBe(true);
    expect(got.userId.equals(service.id)).toBe(true);
    expect(got.version).toBe(1);
    expect(got.nameAccess).toBe(1);
    expect(toHex(got.sessionKey)).toBe(toHex(clientSession.publicKey));
    expect(toHex(got.signature)).toBe(toHex(signature));
    expect(toHex(auth.subarray(HEADER_BYTES, HEADER_BYTES + 32))).toBe(toHex(device.id.bytes));

    const ack = encodeAuthAck(server, {
      sessionKey: serverSession.publicKey,
      maxConnections: 16,
      nameAccess: 1,
      endpoint: 'alice.ela.city:443',
      namedEndpoint: 'alice.ela.city',
    });
    expect(decodeOk(ack, { peer: client })).toEqual({
      type: 'AUTH_ACK',
      sessionKey: serverSession.publicKey,
      maxConnections: 16,
      nameAccess: 1,
      endpoint: 'alice.ela.city:443',
      namedEndpoint: 'alice.ela.city',
    });
  });

  it('ATTACH, CONNECT, CONNECT_ACK, DATA, ERROR and the empty frames', () => {
    const [clientPeer, serverPeer] = peerPair();
    const [client, server] = sessionPair();
    const signature = device.sign(utf8Encode('c2'));
    const attach = decodeOk(
      encodeAttach(clientPeer, {
        deviceId: device.id,
        sessionKey: clientSession.publicKey,
        signature,
      }),
      { peerFor: () => serverPeer },
    );
    expect(attach.type === 'ATTACH' && toHex(attach.signature)).toBe(toHex(signature));

    const v6 = new Uint8Array(16).fill(7);
    expect(
      decodeOk(encodeConnect(server, { address: new Uint8Array([10, 0, 0, 1]), port: 443 }), {
        session: client,
      }),
    ).toEqual({ type: 'CONNECT', address: new Uint8Array([10, 0, 0, 1]), port: 443 });
    expect(
      decodeOk(encodeConnect(server, { address: v6, port: 65535 }), { session: client }),
    ).toEqual({ type: 'CONNECT', address: v6, port: 65535 });
    for (const success of [true, false])
      expect(decodeOk(encodeConnectAck(success), {})).toEqual({ type: 'CONNECT_ACK', success });

    const data = crypto.getRandomValues(new Uint8Array(1000));
    const dataFrame = encodeData(client, data);
    expect(dataFrame.length).toBe(HEADER_BYTES + BOX_OVERHEAD + data.length);
    expect(decodeOk(dataFrame, { session: server })).toEqual({ type: 'DATA', data });
    expect(
      decodeOk(encodeError(server, { code: 3, message: 'nope ✓' }), { session: client }),
    ).toEqual({ type: 'ERROR', code: 3, message: 'nope ✓' });
    for (const type of [
      'ATTACH_ACK',
      'PING',
      'PING_ACK',
      'DISCONNECT',
      'DISCONNECT_ACK',
    ] as const) {
      expect(decodeOk(encodeEmpty(type), {})).toEqual({ type });
    }
  });

  it('DATA is byte-exact NaCl crypto_box under the session keys (checked against tweetnacl one-shot box)', () => {
    const nonce = new Uint8Array(24).fill(0x42);
    const ctx = new CryptoContext(
      CryptoBox.between(clientSession.secretKey, serverSession.publicKey),
      nonce,
    );
    const data = utf8Encode('hello active proxy');
    const frame = encodeData(ctx, data);
    const expected = concatBytes(
      nonce,
      nacl.box(data, nonce, serverSession.publicKey, clientSession.secretKey),
    );
    expect(toHex(frame.subarray(HEADER_BYTES))).toBe(toHex(expected));
    expect(sizeOf(frame)).toBe(frame.length);
    expect(parseTypeByte(frame[2])).toEqual({ kind: 'DATA', ack: false });
    // the next frame uses the incremented nonce
    const second = encodeData(ctx, data);
    expect(second[HEADER_BYTES]).toBe(0x43);
  });
});

describe('padding and size limits', () => {
  it('pads up to at most the next multiple of 256, randomly', () => {
    const [client] = sessionPair();
    const [peer] = peerPair();
    const lengths = new Set<number>();
    for (let i = 0; i < 100; i++) {
      const ping = encodeEmpty('PING');
      expect(ping.length >= HEADER_BYTES && ping.length <= 256).toBe(true);
      lengths.add(ping.length);
      const ack = encodeConnectAck(true);
      expect(ack.length >= HEADER_BYTES + 1 && ack.length <= 256).toBe(true);
      const connect = encodeConnect(client, { address: new Uint8Array(4), port: 1 });
      expect(connect.length >= HEADER_BYTES + BOX_OVERHEAD + 19 && connect.length <= 256).toBe(
        true,
      );
      const auth = encodeAuth(peer, {
        deviceId: device.id,
        version: 1,
        userId: device.id,
        sessionKey: clientSession.publicKey,
        nameAccess: 0,
        signature: new Uint8Array(64),
      });
      const min = HEADER_BYTES + 32 + BOX_OVERHEAD + 131;
      expect(auth.length >= min && auth.length <= nextMultiple(min)).toBe(true);
      const error = encodeError(client, { code: 1, message: 'x'.repeat(300) });
      const minError = HEADER_BYTES + BOX_OVERHEAD + 2 + 300 + 1;
      expect(error.length >= minError && error.length <= nextMultiple(minError)).toBe(true);
    }
    expect(lengths.size).toBeGreaterThan(10);
    expect(maxPadding(256)).toBe(0);
    expect(maxPadding(257)).toBe(255);
    expect(maxPadding(65500)).toBe(35);
  });

  it('refuses over-padded frames', () => {
    const ping = new Uint8Array(257);
    ping[0] = 1;
    ping[1] = 1;
    ping[2] = 0x10;
    const r = decodeFrame(ping, {});
    expect(!r.ok && r.error.code).toBe('FRAME_MALFORMED');
  });

  it('DATA up to the 65535-byte frame; larger is refused by the encoder', () => {
    const [client, server] = sessionPair();
    const big = new Uint8Array(MAX_DATA_BYTES).fill(9);
    const frame = encodeData(client, big);
    expect(frame.length).toBe(MAX_FRAME_BYTES);
    expect(sizeOf(frame)).toBe(MAX_FRAME_BYTES);
    const got = decodeOk(frame, { session: server });
    expect(got.type === 'DATA' && got.data.length).toBe(MAX_DATA_BYTES);
    expect(() => encodeData(client, new Uint8Array(MAX_DATA_BYTES + 1))).toThrow(/at most/);
  });
});

describe('malformed and tampered frames are error values', () => {
  it('tampering with any encrypted byte is refused', () => {
    const [client, server] = sessionPair();
    const frame = encodeData(client, utf8Encode('some bytes'));
    for (let at = HEADER_BYTES; at < frame.length; at += 3) {
      const bad = frame.slice();
      bad[at] ^= 0x20;
      const r = decodeFrame(bad, { session: server });
      expect(r.ok).toBe(false);
    }
    const [peerClient, peerServer] = peerPair();
    const auth = encodeAuth(peerClient, {
      deviceId: device.id,
      version: 1,
      userId: device.id,
      sessionKey: clientSession.publicKey,
      nameAccess: 0,
      signature: new Uint8Array(64),
    });
    const forged = auth.slice();
    forged[auth.length - 1] ^= 1;
    expect(decodeFrame(forged, { peerFor: () => peerServer }).ok).toBe(false);
  });

  it('a different key cannot open or forge peer-context frames', () => {
    const eve = KeyPair.generate();
    const eveCtx = CryptoContext.between(eve.x25519SecretKey, service.x25519PublicKey);
    const serverCtx = CryptoContext.between(service.x25519SecretKey, device.x25519PublicKey);
    // eve claims the device id but can only encrypt under her own key
    const auth = encodeAuth(eveCtx, {
      deviceId: device.id,
      version: 1,
      userId: device.id,
      sessionKey: clientSession.publicKey,
      nameAccess: 0,
      signature: new Uint8Array(64),
    });
    const r = decodeFrame(auth, { peerFor: () => serverCtx });
    expect(!r.ok && r.error.code).toBe('DECRYPT_FAILED');
  });

  it('bad sizes, unknown types, missing contexts and random garbage never throw', () => {
    expect(decodeFrame(new Uint8Array([0, 2]), {}).ok).toBe(false);
    expect(decodeFrame(new Uint8Array([0, 9, 0x10]), {}).ok).toBe(false);
    expect(decodeFrame(new Uint8Array([0, 3, 0xc0]), {}).ok).toBe(false);
    const [client] = sessionPair();
    expect(decodeFrame(encodeData(client, new Uint8Array(5)), {}).ok).toBe(false);
    for (let i = 0; i < 2000; i++) {
      const n = 3 + (i % 300);
      const junk = crypto.getRandomValues(new Uint8Array(n));
      junk[0] = n >> 8;
      junk[1] = n & 0xff;
      const r = decodeFrame(junk, { session: client, peerFor: () => client, peer: client });
      expect(typeof r.ok).toBe('boolean');
    }
  });
});

describe('stream framing', () => {
  it('reassembles frames split at any byte and keeps whole ones as views', () => {
    const frames = [encodeEmpty('PING'), encodeConnectAck(true), encodeEmpty('DISCONNECT_ACK')];
    const stream = concatBytes(...frames);
    for (let cut = 1; cut < stream.length; cut += 7) {
      const reader = new FrameReader();
      const a = reader.push(stream.subarray(0, cut));
      const b = reader.push(stream.subarray(cut));
      expect(a.ok && b.ok).toBe(true);
      const got = [...(a.ok ? a.value : []), ...(b.ok ? b.value : [])];
      expect(got.map(toHex)).toEqual(frames.map(toHex));
      expect(reader.buffered).toBe(0);
    }
    // byte by byte, including a split size prefix
    const reader = new FrameReader();
    const got: string[] = [];
    for (const b of stream) {
      const r = reader.push(new Uint8Array([b]));
      if (r.ok) got.push(...r.value.map(toHex));
    }
    expect(got).toEqual(frames.map(toHex));
    const r = new FrameReader().push(new Uint8Array([0, 1, 0]));
    expect(!r.ok && r.error.code).toBe('FRAME_MALFORMED');
  });

  it('challenge frames carry 32..255 bytes and no type byte', () => {
    const challenge = newChallenge();
    const frame = encodeChallenge(challenge);
    expect(frame.length).toBe(challenge.length + 2);
    const got = decodeChallenge(frame);
    expect(got.ok && toHex(got.value)).toBe(toHex(challenge));
    expect(decodeChallenge(encodeChallenge(new Uint8Array(32))).ok).toBe(true);
    expect(decodeChallenge(new Uint8Array([0, 4, 1, 2])).ok).toBe(false);
    expect(() => encodeChallenge(new Uint8Array(256))).toThrow();
  });
});

describe('CONNECT addresses', () => {
  it('parses and prints IPv4 and IPv6', () => {
    expect(ipToBytes('127.0.0.1')).toEqual(new Uint8Array([127, 0, 0, 1]));
    expect(ipToBytes('::ffff:10.1.2.3')).toEqual(new Uint8Array([10, 1, 2, 3]));
    const v6 = ipToBytes('2001:db8::1')!;
    expect(v6.length).toBe(16);
    expect(bytesToIp(v6)).toBe('2001:db8::1');
    expect(bytesToIp(ipToBytes('::1')!)).toBe('::1');
    for (const bad of ['1.2.3', '256.0.0.1', 'x', '1::2::3', '1:2:3:4:5:6:7:8:9'])
      expect(ipToBytes(bad)).toBeNull();
    expect(Id.zero().bytes.length).toBe(32);
  });
});
