#!/usr/bin/env bash
# The portable tests under Deno. Deno needs explicit paths; deno.json maps `vitest` to a shim.
set -euo pipefail
cd "$(dirname "$0")/.."
export DENO_NO_UPDATE_CHECK=1
mapfile -t files < <(ls tests/shared/*.test.ts tests/deno-only/*.test.ts 2>/dev/null || true)
exec npx --no-install deno test --allow-read --allow-env --allow-net --allow-run --allow-write --allow-sys "${files[@]}" "$@"
