#!/usr/bin/env bash
# The README's main-job command: installs what is missing, then runs the demo (scripts/demo.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
RUST_BACKTRACE=0 node_modules/.bin/deno run -A scripts/demo.ts
