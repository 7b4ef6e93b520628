/** The conformance suite against the Workers build of the edge, served by `wrangler dev` (workerd). */
import { edgeConformanceSuite } from '../conformance.ts';
import { ZONE } from '../world.ts';
import { startWranglerDev } from './wrangler-dev.ts';

edgeConformanceSuite({
  runtime: 'workerd',
  start: (world) => startWranglerDev(world.env, ZONE),
  seesConnectionHeader: false,
  closesUpstreamWhenClientLeaves: false,
  twoHostsStatus: 500,
});
