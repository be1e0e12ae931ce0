#!/usr/bin/env bash
# Installs the `sshtrace` command from this checkout, offline: bash scripts/install.sh [--binary]
# (or `deno task install`), into $DENO_INSTALL_ROOT/bin (default ~/.deno/bin).
#   default:   `deno install -g` with sshtrace's permissions; where no `deno` is on PATH, the
#              checkout's Deno (tools/, from npm) is linked there too, since the installed
#              command runs `deno run`.
#              The command caps V8's young generation (--max-semi-space-size=4, MiB): without
#              it the young generation grows with the length of a run (a 4 GiB download peaked
#              at ~175 MiB instead of ~125 MiB; a 500-host check at 177 instead of 140 MiB), at
#              the same speed (BENCHMARKS.md, "File transfer"). --heap-growing-percent=50 lets
#              the old generation grow to 1.5x what survived its last collection (V8 allows up
#              to 4x), so garbage promoted during a long copy is collected before it adds up.
#              A running program cannot set either.
#   --binary:  the standalone executable (dist/sshtrace-linux-x64, built when missing), copied
#              there as `sshtrace`: no Deno at run time, and the fastest start.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INSTALL_ROOT="${DENO_INSTALL_ROOT:-$HOME/.deno}"
DENO="$ROOT/tools/node_modules/.bin/deno"
if [[ ! -x "$DENO" ]]; then
  echo "install: deno missing: npm ci in tools/"
  (cd "$ROOT/tools" && npm ci --no-audit --no-fund >/dev/null)
fi

if [[ "${1:-}" == "--binary" ]]; then
  [[ -x "$ROOT/dist/sshtrace-linux-x64" ]] || bash "$ROOT/scripts/binary.sh"
  mkdir -p "$INSTALL_ROOT/bin"
  install -m 0755 "$ROOT/dist/sshtrace-linux-x64" "$INSTALL_ROOT/bin/sshtrace"
else
  RUST_BACKTRACE=0 NO_COLOR=1 "$DENO" install --global --force --quiet --root "$INSTALL_ROOT" \
    --name sshtrace --allow-net --allow-env --allow-read --allow-write --allow-ffi \
    --v8-flags=--max-semi-space-size=4,--heap-growing-percent=50 \
    --config "$ROOT/deno.json" "$ROOT/main.ts"
  if ! command -v deno >/dev/null; then
    ln -sf "$DENO" "$INSTALL_ROOT/bin/deno"
  fi
fi
version="$(PATH="$INSTALL_ROOT/bin:$PATH" "$INSTALL_ROOT/bin/sshtrace" --version)"
echo "install: $INSTALL_ROOT/bin/sshtrace $version"
case ":$PATH:" in
  *":$INSTALL_ROOT/bin:"*) ;;
  *) echo "install: add it to PATH: export PATH=\"$INSTALL_ROOT/bin:\$PATH\"" ;;
esac
