/**
 * vitest setup on Node.js: libsodium as the crypto backend of every test process, as `pc2` installs
 * it in every process it starts (cli/native-crypto.ts). The workerd and Deno runs keep the portable
 * backends.
 */
import { useNativeCrypto } from '../../cli/native-crypto.ts';

useNativeCrypto();
