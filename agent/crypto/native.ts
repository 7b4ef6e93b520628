/**
 * Installs libsodium (sodium-native, prebuilt binaries shipped in the npm package) as the secretbox
 * backend of this process: the Active Proxy data path encrypts every DATA frame. Falls back to the
 * pure-JS backend when the addon cannot load (other platforms, Deno without --allow-ffi).
 */
import { createRequire } from 'node:module';
import { secretboxBackend, type SodiumLike, sodiumBackend, useSecretboxBackend } from '../../shared/crypto/secretbox.ts';

let tried = false;

/** The backend name in use after trying to install the native one (once per process). */
export function useNativeCrypto(): string {
  if (!tried) {
    tried = true;
    try {
      const sodium = createRequire(import.meta.url)('sodium-native') as SodiumLike;
      useSecretboxBackend(sodiumBackend(sodium));
    } catch {
      // keep the pure-JS backend
    }
  }
  return secretboxBackend().name;
}
