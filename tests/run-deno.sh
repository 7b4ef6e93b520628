#!/usr/bin/env bash
# The portable tests under Deno, then the edge conformance suite with the edge on Deno.serve.
# Deno needs explicit paths; deno.json maps `vitest` to a shim. Each `deno test` run prints its own
# `ok | N passed | N failed` line; tests/run-all.sh sums them.
set -uo pipefail
cd "$(dirname "$0")/.."
export DENO_NO_UPDATE_CHECK=1
perms=(--allow-read --allow-env --allow-net --allow-run --allow-write --allow-sys)
status=0
mapfile -t files < <(ls tests/shared/*.test.ts tests/edge/app.test.ts 2>/dev/null || true)
npx --no-install deno test "${perms[@]}" "${files[@]}" "$@" || status=1
# The edge suite is type-checked by tsc with the rest of the project; under Deno it runs unchecked
# because it mixes node: test servers with Deno's own types.
mapfile -t edge_files < <(ls tests/edge/runtime/*.deno.ts 2>/dev/null || true)
if [ "${#edge_files[@]}" -gt 0 ]; then
  npx --no-install deno test --no-check "${perms[@]}" "${edge_files[@]}" "$@" || status=1
fi
exit $status
