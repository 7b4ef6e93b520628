/**
 * libsodium for this process. sodium-native (prebuilt binaries shipped in the npm package) is loaded
 * once, here, by the composition root, and handed to the two places that use it: the secretbox of the
 * tunnel's data path (shared/crypto/secretbox.ts, about ten times tweetnacl's speed) and the
 * registry's Ed25519 JWS (origin/registry/native-jws.ts). Each checks it against its portable
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
import {
  installSodiumOnce,
  secretboxBackend,
  type SodiumLike,
} from '../shared/crypto/secretbox.ts';

let loaded: { secretbox: string; jws: JwsBackend } | undefined;

function loadSodium(): (SodiumLike & SodiumSign) | null {
  try {
    return createRequire(import.meta.url)('sodium-native') as SodiumLike & SodiumSign;
  } catch {
    return null;
  }
}

/** Loads libsodium once per process and installs it where it checks out; returns the backends in use. */
export function useNativeCrypto(): { secretbox: string; jws: JwsBackend } {
  if (loaded) return loaded;
  const sodium = loadSodium();
  loaded = sodium
    ? { secretbox: installSodiumOnce(() => sodium), jws: useSodiumSigning(sodium) }
    : { secretbox: secretboxBackend().name, jws: jwsBackend() };
  return loaded;
}
