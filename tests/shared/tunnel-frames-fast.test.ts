/** The data-path additions: many DATA frames in one buffer, in-place decryption, the large-frame offer. */
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex, utf8Encode } from '../../shared/bytes.ts';
import { CryptoBox } from '../../shared/crypto/box.ts';
import { CryptoContext } from '../../shared/crypto/context.ts';
import { tweetnaclBackend } from '../../shared/crypto/secretbox.ts';
import { KeyPair } from '../../shared/keys.ts';
import {
  authAckFitsOffer,
  BOX_OVERHEAD,
  DATA_CHUNK_BYTES,
  dataChunkBytesFor,
  dataFramesBytes,
  decodeFrame,
  encodeAuth,
  encodeAuthAck,
  encodeData,
  encodeDataFrames,
  encodeDataFramesInto,
  encodeFrameOffer,
  FRAME_OFFER_BYTES,
  FramePool,
  FrameReader,
  HEADER_BYTES,
  MAX_DATA_BYTES,
  newSessionKeyPair,
  parseFrameOffer,
  parseTypeByte,
  sessionContext,
} from '../../shared/tunnel/index.ts';

const device = KeyPair.generate();
const service = KeyPair.generate();
const a = newSessionKeyPair();
const b = newSessionKeyPair();
const sessionPair = () => [sessionContext(a, b.publicKey), sessionContext(b, a.publicKey)] as const;
/** AUTH's fields from `device` with session key `a`, plus `extra`. */
const authFields = (extra: { pool?: number } = {}) => ({
  deviceId: device.id,
  version: 1,
  userId: device.id,
  sessionKey: a.publicKey,
  nameAccess: 0,
  signature: device.sign(utf8Encode('c')),
  ...extra,
});
const peerPair = () =>
  [
    CryptoContext.between(device.x25519SecretKey, service.x25519PublicKey),
    CryptoContext.between(service.x25519SecretKey, device.x25519PublicKey),
  ] as const;

describe('DATA frames packed in one buffer', () => {
  it('splits at the chunk size, each frame a stock DATA frame, byte-exact after decoding', () => {
    for (const chunk of [DATA_CHUNK_BYTES, MAX_DATA_BYTES, 1000]) {
      const [sender, receiver] = sessionPair();
      const data = new Uint8Array(3 * chunk + 17).map((_, i) => (i * 131 + (i >> 9)) & 0xff);
      const packed = encodeDataFrames(sender, data, chunk);
      expect(packed.length).toBe(dataFramesBytes(data.length, chunk));
      const frames = new FrameReader().push(packed);
      if (!frames.ok) throw frames.error;
      expect(frames.value.length).toBe(4);
      const parts: Uint8Array[] = [];
      for (const frame of frames.value) {
        expect(parseTypeByte(frame[2])?.kind).toBe('DATA');
        expect(frame.length).toBeLessThanOrEqual(HEADER_BYTES + BOX_OVERHEAD + chunk);
        const got = decodeFrame(frame, { session: receiver });
        if (!got.ok || got.value.type !== 'DATA') throw new Error('not DATA');
        parts.push(got.value.data);
      }
      expect(toHex(concatBytes(...parts))).toBe(toHex(data));
    }
  });

  it('matches the one-frame encoder byte for byte under the same nonce', () => {
    const nonce = new Uint8Array(24).fill(9);
    const box = () => new CryptoContext(CryptoBox.between(a.secretKey, b.publicKey), nonce);
    const data = utf8Encode('same bytes either way');
    const one = encodeData(box(), data);
    const packed = encodeDataFrames(box(), data);
    expect(toHex(packed.subarray(3))).toBe(toHex(one.subarray(3)));
    expect(toHex(packed.subarray(3))).toBe(
      toHex(concatBytes(nonce, nacl.box(data, nonce, b.publicKey, a.secretKey))),
    );
  });

  it('refuses an output buffer that is too small and a chunk size past the frame limit', () => {
    const [sender] = sessionPair();
    expect(() =>
      encodeDataFramesInto(sender, new Uint8Array(100), 100, new Uint8Array(100)),
    ).toThrow();
    expect(() => encodeDataFrames(sender, new Uint8Array(10), MAX_DATA_BYTES + 1)).toThrow();
  });

  it('a frame pool hands back released slots and sizes small requests exactly', () => {
    const pool = new FramePool(1024, 2);
    const slot = pool.acquire(900);
    expect(slot.length).toBe(1024);
    pool.release(slot);
    expect(pool.acquire(800)).toBe(slot);
    expect(pool.acquire(10).length).toBe(10);
    expect(pool.acquire(5000).length).toBe(5000);
    pool.release(new Uint8Array(5000));
    expect(pool.free).toBe(0);
  });
});

describe('in-place decryption', () => {
  it('gives the same plaintext as decrypt, as a view into the message', () => {
    const [sender, receiver] = sessionPair();
    const data = crypto.getRandomValues(new Uint8Array(5000));
    const message = sender.encrypt(data);
    const got = receiver.decryptInPlace(message);
    if (!got.ok) throw got.error;
    expect(toHex(got.value)).toBe(toHex(data));
    expect(got.value.buffer).toBe(message.buffer);
  });

  it('refuses tampered, short and replayed messages', () => {
    const [sender, receiver] = sessionPair();
    const message = sender.encrypt(utf8Encode('hello'));
    const tampered = message.slice();
    tampered[tampered.length - 1] ^= 1;
    const bad = receiver.decryptInPlace(tampered);
    expect(!bad.ok && bad.error.code).toBe('DECRYPT_FAILED');
    expect(receiver.decryptInPlace(message.subarray(0, 39)).ok).toBe(false);
    const copy = message.slice();
    expect(receiver.decryptInPlace(message).ok).toBe(true);
    const replay = receiver.decryptInPlace(copy);
    expect(!replay.ok && replay.error.code).toBe('DUPLICATED_NONCE');
  });

  it('DATA decoded in place matches DATA decoded with a copy', () => {
    const [sender, receiver] = sessionPair();
    const data = crypto.getRandomValues(new Uint8Array(DATA_CHUNK_BYTES));
    const frame = encodeData(sender, data);
    const got = decodeFrame(frame, { session: receiver, dataInPlace: true });
    expect(got.ok && got.value.type === 'DATA' && toHex(got.value.data)).toBe(toHex(data));
  });

  it('the pure-JS backend opens in place too', () => {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const nonce = crypto.getRandomValues(new Uint8Array(24));
    const plain = crypto.getRandomValues(new Uint8Array(300));
    const boxed = nacl.secretbox(plain, nonce, key);
    expect(tweetnaclBackend.openInPlace(boxed, nonce, key)).toBe(true);
    expect(toHex(boxed.subarray(16))).toBe(toHex(plain));
  });
});

describe('large-frame offer in the AUTH / AUTH_ACK padding', () => {
  it('round-trips inside AUTH and AUTH_ACK, within the padding bound', () => {
    const [client, server] = peerPair();
    const [, serverForAck] = peerPair();
    const signature = device.sign(utf8Encode('challenge'));
    for (let i = 0; i < 20; i++) {
      const auth = encodeAuth(client, {
        deviceId: device.id,
        version: 1,
        userId: device.id,
        sessionKey: a.publicKey,
        nameAccess: 0,
        signature,
        maxDataBytes: MAX_DATA_BYTES,
      });
      expect(auth.length).toBeLessThanOrEqual(256);
      const got = decodeFrame(auth, { peerFor: () => server });
      expect(got.ok && got.value.type === 'AUTH' && got.value.maxDataBytes).toBe(MAX_DATA_BYTES);
    }
    const ack = encodeAuthAck(serverForAck, {
      sessionKey: b.publicKey,
      maxConnections: 16,
      nameAccess: 1,
      endpoint: 'alice.ela.city:443',
      namedEndpoint: 'alice.ela.city',
      maxDataBytes: 40_000,
    });
    const got = decodeFrame(ack, {
      peer: CryptoContext.between(device.x25519SecretKey, service.x25519PublicKey),
    });
    expect(got.ok && got.value.type === 'AUTH_ACK' && got.value.maxDataBytes).toBe(40_000);
  });

  it('the large-pool ask and grant ride in the same offer; pc2 peers before it sent 0 there', () => {
    const [client, server] = peerPair();
    const frame = (pool?: number) =>
      decodeFrame(encodeAuth(client, authFields(pool === undefined ? {} : { pool })), {
        peerFor: () => server,
      });
    const asked = frame(1024);
    expect(asked.ok && asked.value.type === 'AUTH' && asked.value.pool).toBe(1024);
    // The ask alone still states the stock DATA size: the peer keeps sending stock frames.
    expect(asked.ok && asked.value.type === 'AUTH' && asked.value.maxDataBytes).toBe(
      DATA_CHUNK_BYTES,
    );
    const stock = frame(undefined);
    expect(stock.ok && stock.value.type === 'AUTH' && 'pool' in stock.value).toBe(false);
    expect(parseFrameOffer(encodeFrameOffer(MAX_DATA_BYTES))).toEqual({
      maxDataBytes: MAX_DATA_BYTES,
      pool: 0,
      flags: 0,
    });
    // The pool's 12 bits and the flags' 4 share the last u16 without touching each other.
    expect(parseFrameOffer(encodeFrameOffer(DATA_CHUNK_BYTES, 4095, 0x1))).toEqual({
      maxDataBytes: DATA_CHUNK_BYTES,
      pool: 4095,
      flags: 0x1,
    });
    expect(parseFrameOffer(encodeFrameOffer(DATA_CHUNK_BYTES, 70_000))?.pool).toBe(4095);
    const ack = decodeFrame(
      encodeAuthAck(server, {
        sessionKey: b.publicKey,
        maxConnections: 700,
        nameAccess: 1,
        endpoint: 'alice.ela.city:443',
        namedEndpoint: 'alice.ela.city',
        maxDataBytes: MAX_DATA_BYTES,
        pool: 700,
      }),
      { peer: client },
    );
    expect(
      ack.ok && ack.value.type === 'AUTH_ACK' && [ack.value.maxConnections, ack.value.pool],
    ).toEqual([700, 700]);
  });

  it('frames without the offer decode with no maxDataBytes (a stock peer)', () => {
    const [client, server] = peerPair();
    const auth = encodeAuth(client, authFields());
    const got = decodeFrame(auth, { peerFor: () => server });
    expect(got.ok && got.value.type === 'AUTH' && 'maxDataBytes' in got.value).toBe(false);
    expect(
      parseFrameOffer(crypto.getRandomValues(new Uint8Array(FRAME_OFFER_BYTES))),
    ).toBeUndefined();
    expect(
      parseFrameOffer(encodeFrameOffer(50_000).subarray(0, FRAME_OFFER_BYTES - 1)),
    ).toBeUndefined();
  });

  it('an offer that does not fit the padding bound is refused by the encoder, and predicted', () => {
    const [, server] = peerPair();
    const endpoint = 'e'.repeat(172);
    expect(authAckFitsOffer(endpoint, '')).toBe(false);
    expect(authAckFitsOffer('alice.ela.city:443', 'alice.ela.city')).toBe(true);
    expect(() =>
      encodeAuthAck(server, {
        sessionKey: b.publicKey,
        maxConnections: 16,
        nameAccess: 0,
        endpoint,
        namedEndpoint: '',
        maxDataBytes: MAX_DATA_BYTES,
      }),
    ).toThrow();
  });

  it('the size to send is clamped to what the frame allows, and stock without an offer', () => {
    expect(dataChunkBytesFor(undefined)).toBe(DATA_CHUNK_BYTES);
    expect(dataChunkBytesFor(65535)).toBe(MAX_DATA_BYTES);
    expect(dataChunkBytesFor(100)).toBe(DATA_CHUNK_BYTES);
    expect(dataChunkBytesFor(50_000)).toBe(50_000);
  });
});
