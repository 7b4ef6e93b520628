/**
 * package.json's postinstall: makes sure node_modules/.bin/node is the pinned Node.js, the
 * node-<platform> optional dependency npm installed for this machine. npm 11 links it by itself;
 * npm 10 (the one Node 20 ships) links it and then unlinks it again while it drops the packages of
 * the other platforms, which declare the same bin name. Without the link, npm scripts, npx and pc2
 * would not run on the pinned Node. Plain JavaScript: it runs on the machine's Node, whatever it is.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
const path = (relative) => fileURLToPath(new URL(relative, root));
const bin = path('node_modules/.bin/node');
// existsSync follows the link: a link to a removed package counts as missing.
if (!existsSync(bin)) {
  const { optionalDependencies } = JSON.parse(readFileSync(path('package.json'), 'utf8'));
  const installed = Object.keys(optionalDependencies).filter((name) => existsSync(path(`node_modules/${name}/bin/node`)));
  if (installed.length === 1) {
    rmSync(bin, { force: true });
    mkdirSync(path('node_modules/.bin'), { recursive: true });
    symlinkSync(`../${installed[0]}/bin/node`, bin);
  } else {
    console.warn(`pc2-network: no pinned Node.js for ${process.platform}-${process.arch} (one of ${Object.keys(optionalDependencies).join(', ')}): npm scripts and pc2 need one (docs/toolchain.md)`);
  }
}
