#!/usr/bin/env bash
# `deno compile` of sshtrace for each target: bash scripts/compile.sh [TARGET...] (or
# `deno task compile`), into dist/deno/sshtrace-<os>-<arch>[.exe]. Needs a machine that reaches the
# Deno download site (deno compile fetches `denort` for each target); where it cannot, use
# `deno task binary` (a standalone executable built with Bun from npm).
#
# The permissions are the exact set `deno task sshtrace` grants (no --allow-run). Every module
# loaded lazily with `await import("…")` is named with --include (deno compile follows literal
# specifiers anyway; test/unit/platform/compile_test.ts keeps this list complete), and nothing
# is read from next to the sources at run time (the WebAssembly is embedded as TypeScript
# modules). FFI opens libcrypto and libc by absolute system paths, as with `deno run`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export RUST_BACKTRACE=0 NO_COLOR=1
DENO="$ROOT/tools/node_modules/.bin/deno"

PERMISSIONS=(--allow-net --allow-env --allow-read --allow-write --allow-ffi)
LAZY_MODULES=(
  lib/cli/send.ts
  lib/cli/check.ts
  lib/cli/config_dump.ts
  lib/cli/probe.ts
  lib/cli/jump.ts
  lib/client/probe.ts
  lib/jump/proxy_command.ts
  lib/jump/chain.ts
  lib/transfer/session.ts
  lib/transfer/copy.ts
  lib/transfer/local.ts
  lib/cli/connect.ts
  lib/client.ts
  lib/cli/settings.ts
  lib/sshconfig/apply.ts
  lib/render/ndjson.ts
  lib/render/report.ts
  lib/diagnose/explain.ts
  lib/algorithms/registry.ts
  lib/algorithms/pq.ts
  lib/cli/lab.ts
  lib/platform/termios.ts
  lib/platform/node_socket.ts
  lib/algorithms/_wasm/mlkem768.ts
  lib/algorithms/_wasm/sntrup761.ts
  lib/algorithms/_kem_worker.ts
  lib/doctor/drift.ts
  lib/cli/doctor.ts
  lib/cli/deep.ts
  lib/send/over_ssh.ts
  lib/cli/transfer.ts
  lib/cli/netconf.ts
)
declare -A NAMES=(
  [x86_64-unknown-linux-gnu]=linux-x64
  [aarch64-unknown-linux-gnu]=linux-arm64
  [x86_64-apple-darwin]=macos-x64
  [aarch64-apple-darwin]=macos-arm64
  [x86_64-pc-windows-msvc]=windows-x64.exe
)
targets=("$@")
((${#targets[@]})) || targets=("${!NAMES[@]}")

includes=()
for m in "${LAZY_MODULES[@]}"; do includes+=(--include "$m"); done
mkdir -p dist/deno
for target in "${targets[@]}"; do
  name="${NAMES[$target]:?unknown target $target (one of: ${!NAMES[*]})}"
  # V8's heap capped as for the installed command (scripts/install.sh).
  "$DENO" compile --quiet "${PERMISSIONS[@]}" --v8-flags=--max-semi-space-size=4,--heap-growing-percent=50 \
    "${includes[@]}" --target "$target" \
    --output "dist/deno/sshtrace-$name" main.ts
  echo "compile: dist/deno/sshtrace-$name ($(stat -c %s "dist/deno/sshtrace-$name") bytes)"
done
