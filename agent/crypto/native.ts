/**
 * Installs libsodium (sodium-native, prebuilt binaries shipped in the npm package) as the secretbox
 * backend of this process: the Active Proxy data path encrypts every DATA frame. Falls back to the
 * pure-JS backend when the addon cannot load (other platforms, Deno without --allow-ffi).
 */
import { createRequire } from 'node:module';
import { installSodiumOnce, type SodiumLike } from '../../shared/crypto/secretbox.ts';

/** The backend name in use after trying to install the native one (once per process). */
export const useNativeCrypto = (): string => installSodiumOnce(() => createRequire(import.meta.url)('sodium-native') as SodiumLike);
