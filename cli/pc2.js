#!/bin/sh
':' //; here=$(dirname "$(readlink -f "$0")"); node="$here/../node_modules/.bin/node"
':' //; [ -x "$node" ] || { echo "pc2: $node is missing: run npm install in $here/.." >&2; exit 1; }
':' //; case "$1" in supernode|gateway) set -- --max-semi-space-size=4 "$0" "$@";; *) set -- "$0" "$@";; esac
':' //; exec "$node" "$@"
/**
 * `pc2` as package.json's "bin" installs it, and what systemd units and `npm start` run. The lines
 * above are for /bin/sh (JavaScript reads them as a string and a comment): they replace the shell
 * with the project's own Node, node_modules/.bin/node (the exact version package.json pins), so that
 * no `node` that happens to come first in PATH, nor a `#!/usr/bin/env node` outside npm's PATH, ever
 * runs the CLI. Plain JavaScript from here on, so any Node can parse it before refusing.
 *
 * The super node and the gateway are long-running servers whose memory should not follow their load:
 * left alone, V8 grows its young generation to 48 MiB under sustained traffic (and shrinks it when
 * quiet), so for those two roles the launcher caps a semi-space at 4 MiB;
 * the other half, glibc's free heap pages, is returned by cli/heap-trim.ts. docs/benchmarks.md,
 * "Fuzzing and soak".
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const pinned = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));
let same = false;
try {
  same = realpathSync(process.execPath) === realpathSync(pinned);
} catch {
  // No pinned Node installed: refused below.
}
if (!same) {
  console.error(`pc2: runs on the project's Node (${pinned}), not ${process.execPath} (${process.version}); start it as ${fileURLToPath(import.meta.url)}`);
  process.exit(1);
}
// The CLI is TypeScript: tsx's loader, in this process (what `node --import tsx` does).
await import('tsx');
await import('./main.ts');
