/** Debian's pebble for the tests: the devnet's launcher (cli/pebble.ts). */
import { type LocalPebble, startLocalPebble } from '../../cli/pebble.ts';

export type Pebble = LocalPebble;
export const startPebble = startLocalPebble;
