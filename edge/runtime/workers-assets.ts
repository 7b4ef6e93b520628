/**
 * The network map's files for Workers: bundled into the Worker as text modules (the `[[rules]]` of
 * wrangler.toml), since a Worker reads no files. The same files the Node.js and Deno gateways read.
 */
import uplotJs from 'uplot/dist/uPlot.iife.min.js';
import uplotCss from 'uplot/dist/uPlot.min.css';
import mapJs from '../network/client/map.js';
import mapCss from '../network/client/map.css';
import type { NetworkAssets } from '../network/page.ts';

export const NETWORK_ASSETS: NetworkAssets = {
  'uPlot.min.js': uplotJs,
  'uPlot.min.css': uplotCss,
  'map.js': mapJs,
  'map.css': mapCss,
};
