/**
 * `pc2 devnet`: the whole network on loopback. Only components that exist are started; this grows
 * as the gateway, super nodes and agent land.
 */
import { KeyPair } from '../../shared/keys.ts';

export async function runDevnet(args: string[]): Promise<void> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log('pc2 devnet\n\nRuns the whole network on loopback.');
    return;
  }
  const demo = KeyPair.generate();
  console.log('pc2 devnet: this build has the shared core only (identity, CryptoBox, CBOR).');
  console.log('No network component is built yet, so nothing is listening.');
  console.log(`A fresh demo identity, to show the core works: ${demo.id.toDid()}`);
}
