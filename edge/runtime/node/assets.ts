/**
 * The network map's files for the Node.js gateway, read once at start: uPlot as installed (its
 * version pinned in package.json) and the page's own script and style from edge/network/client/.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { NetworkAssets } from '../../network/page.ts';

let cached: NetworkAssets | null = null;

export function readNetworkAssets(): NetworkAssets {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const uplot = (file: string) => readFileSync(require.resolve(`uplot/dist/${file}`), 'utf8');
  const own = (file: string) =>
    readFileSync(new URL(`../../network/client/${file}`, import.meta.url), 'utf8');
  cached = {
    'uPlot.min.js': uplot('uPlot.iife.min.js'),
    'uPlot.min.css': uplot('uPlot.min.css'),
    'map.js': own('map.js'),
    'map.css': own('map.css'),
  };
  return cached;
}
