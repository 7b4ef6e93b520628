#!/usr/bin/env bash
# `npm test`: the type check, the format check, then every runner (Node.js, workerd, Deno, end-to-end
# scripts), then one line `N passed, N failed` summing them all. Exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
# The project's pinned Node first, as under `npm test`, also when this script is run by hand.
export PATH="$PWD/node_modules/.bin:$PATH"
export WRANGLER_SEND_METRICS=false CI="${CI:-true}" CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_HIDE_BANNER=true
export DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
passed=0
failed=0

# vitest: counts from its JSON report.
vitest_counts() {
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(r.numPassedTests, r.numFailedTests + (r.success === false && r.numFailedTests === 0 ? 1 : 0));
  ' "$1" 2>/dev/null || echo "0 1"
}

step() { printf '\n=== %s ===\n' "$1"; }

echo "Node.js $(node --version) at $(command -v node)"

step "type check (tsc --noEmit)"
if npx --no-install tsc --noEmit -p tsconfig.json; then passed=$((passed + 1)); echo "type check ok"; else failed=$((failed + 1)); fi

step "format check (biome format; \`npx biome format --write .\` fixes it)"
if npx --no-install biome format --max-diagnostics=20 .; then passed=$((passed + 1)); echo "format ok"; else failed=$((failed + 1)); fi

for runner in node workerd; do
  config=vitest.config.ts
  [ "$runner" = workerd ] && config=vitest.workers.config.ts
  step "vitest on $runner"
  npx --no-install vitest run --config "$config" --reporter=default --reporter=json --outputFile="$out/$runner.json"
  read -r p f < <(vitest_counts "$out/$runner.json")
  passed=$((passed + p)); failed=$((failed + f))
done

step "deno test"
bash tests/run-deno.sh 2>&1 | tee "$out/deno.txt"
deno_status=${PIPESTATUS[0]}
failed_before_deno=$failed
deno_lines=$(sed -E 's/\x1b\[[0-9;]*m//g' "$out/deno.txt" | grep -E '(ok|FAILED) \| [0-9]+ passed' || true)
if [ -n "$deno_lines" ]; then
  # One summary line per `deno test` run in tests/run-deno.sh.
  while read -r line; do
    p=$(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$line")
    f=$(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$line")
    passed=$((passed + p)); failed=$((failed + f))
  done <<<"$deno_lines"
else
  failed=$((failed + 1))
fi
# A run that died before its summary (e.g. a type error) still counts as a failure.
if [ "$deno_status" -ne 0 ] && [ "$failed" -eq "$failed_before_deno" ]; then failed=$((failed + 1)); fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
