/**
 * libsodium for this process. sodium-native (prebuilt binaries shipped in the npm package) is loaded
 * once, here, by the composition root, and handed to the two places that use it: the secretbox of the
 * tunnel's data path (shared/crypto/secretbox.ts, about ten times tweetnacl's speed), the
 * registry's Ed25519 JWS (origin/registry/native-jws.ts) and the tunnel handshakes' Ed25519
 * (shared/crypto/ed25519.ts). Each checks it against its portable
 * backend first and keeps that one (tweetnacl; node:crypto) when the addon cannot load (other
 * platforms, Deno without --allow-ffi) or disagrees. Why here: docs/layout.md, "Native crypto".
 */
import { createRequire } from 'node:module';
import {
  jwsBackend,
  type JwsBackend,
  type SodiumSign,
  useSodiumSigning,
} from '../origin/registry/native-jws.ts';
import { ed25519Backend, type SodiumEd25519, useSodiumEd25519 } from '../shared/crypto/ed25519.ts';
import {
  installSodiumOnce,
  secretboxBackend,
  type SodiumLike,
} from '../shared/crypto/secretbox.ts';

type Sodium = SodiumLike & SodiumSign & SodiumEd25519;

let loaded: { secretbox: string; jws: JwsBackend; ed25519: string } | undefined;

function loadSodium(): Sodium | null {
  try {
    return createRequire(import.meta.url)('sodium-native') as Sodium;
  } catch {
    return null;
  }
}

/** Loads libsodium once per process and installs it where it checks out; returns the backends in use. */
export function useNativeCrypto(): { secretbox: string; jws: JwsBackend; ed25519: string } {
  if (loaded) return loaded;
  const sodium = loadSodium();
  loaded = sodium
    ? {
        secretbox: installSodiumOnce(() => sodium),
        jws: useSodiumSigning(sodium),
        ed25519: useSodiumEd25519(sodium),
      }
    : { secretbox: secretboxBackend().name, jws: jwsBackend(), ed25519: ed25519Backend() };
  return loaded;
}
