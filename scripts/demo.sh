#!/usr/bin/env bash
# The README's main-job command: gets Deno (npm) if missing, then runs the demo against
# sshtrace's own lab server (scripts/demo.ts). Needs no SSH server on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x tools/node_modules/.bin/deno ]]; then
  echo "demo: installing Deno 2.9.6 from npm"
  (cd tools && npm ci --no-audit --no-fund >/dev/null)
fi
RUST_BACKTRACE=0 tools/node_modules/.bin/deno run -A scripts/demo.ts
