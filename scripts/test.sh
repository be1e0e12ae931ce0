#!/usr/bin/env bash
# The test command: bash scripts/test.sh [extra deno test args...]
# Installs what is missing, runs the whole suite with Deno, and ends with a line
# "N passed, N failed" taken from Deno's own summary. Exit status is Deno's.
# Extra arguments are passed to `deno test`; when one of them is a path (does not start
# with "-"), the default "test/" directory is left out so only the given paths run.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1

bash scripts/install-deps.sh || {
  echo "scripts/install-deps.sh failed"
  echo "0 passed, 1 failed"
  exit 1
}

# The standalone executable (dist/sshtrace-linux-x64) for test/interop/binary/: ~5 s. A failed
# build is reported by that test (it tries again and shows the output).
bash scripts/binary.sh || echo "scripts/binary.sh failed: test/interop/binary/ will say why"

targets=(test/)
for arg in "$@"; do
  if [[ "$arg" != -* ]]; then
    targets=()
    break
  fi
done

mkdir -p .cache
LOG="$ROOT/.cache/test-output.log"

RUST_BACKTRACE=0 NO_COLOR=1 tools/node_modules/.bin/deno test --allow-all "$@" "${targets[@]}" 2>&1 |
  tee "$LOG"
status=${PIPESTATUS[0]}

# Deno's summary: "ok | 3 passed | 0 failed (12ms)" or
# "FAILED | 2 passed (5 steps) | 1 failed (1 step) (30ms)". Take the last one printed.
summary="$(sed -e 's/\x1b\[[0-9;]*m//g' "$LOG" | grep -E '^(ok|FAILED) \| [0-9]+ passed' | tail -n 1)"
if [[ -z "$summary" ]]; then
  echo "no deno test summary line found (deno exit status $status)"
  echo "0 passed, 1 failed"
  exit 1
fi
passed="$(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$summary")"
failed="$(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$summary")"
echo "${passed} passed, ${failed} failed"
exit "$status"
