#!/usr/bin/env bash
# `npm run test:all`, the README's test command and what CI runs: installs what the tests need
# (scripts/setup/test-deps.sh, idempotent), then runs every suite — `npm test` (build, type
# check, lint, generated-files check, mocha unit suites against real torch and real WebGPU),
# the preview page in chromium with and without WebGPU, mocha in the real VS Code extension
# host, and the browser end-to-end run of the installed .vsix. Every suite runs even when an
# earlier one failed, so one run shows everything that is broken; the closing line adds up the
# suites' own `N passed, N failed` lines, and the exit status is non-zero when any suite failed
# (or printed no such line).
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup/test-deps.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

suites=("test" "test:preview" "test:integration" "test:e2e")
total_pass=0
total_fail=0
status=0
summary=()
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for s in "${suites[@]}"; do
  echo "=== npm run $s"
  npm run --silent "$s" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 || true)"
  if [ -z "$line" ]; then
    # A suite that stopped before counting (a build or type error) counts as one failure.
    p=0; f=1
  else
    p="$(sed -E 's/^([0-9]+) passed, ([0-9]+) failed.*/\1/' <<<"$line")"
    f="$(sed -E 's/^([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")"
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  fi
  [ "$rc" -ne 0 ] && status=1
  total_pass=$((total_pass + p))
  total_fail=$((total_fail + f))
  summary+=("$(printf '%-18s %6s passed, %s failed (exit %s)' "$s" "$p" "$f" "$rc")")
done
echo "=== all suites"
printf '%s\n' "${summary[@]}"
echo "${total_pass} passed, ${total_fail} failed"
exit "$status"
