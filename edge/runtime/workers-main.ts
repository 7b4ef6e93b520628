/**
 * The Worker as deployed (wrangler.toml `main`): the handler of workers.ts with the network map's
 * files bundled in. Kept apart so that the portable tests, which import workers.ts under Node.js,
 * workerd and Deno, need no text-module support.
 */
import { workerWith } from './workers.ts';
import { NETWORK_ASSETS } from './workers-assets.ts';

export default workerWith(NETWORK_ASSETS);
