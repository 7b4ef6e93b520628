/** What this pc2 says it is, in health reports and on the network map. */
import pkg from '../package.json' with { type: 'json' };

export const PC2_VERSION = `pc2 ${pkg.version}`;
