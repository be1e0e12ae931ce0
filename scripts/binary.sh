#!/usr/bin/env bash
# The standalone executable: bash scripts/binary.sh (or `deno task binary`) builds
# dist/sshtrace-linux-x64, one file that runs sshtrace with no Deno and no node_modules, and
# prints its size and SHA-256.
#   1. `deno bundle` makes one JS file of main.ts and every module it loads (lazy imports and npm
#      packages included), with deno.json's import map plus one entry that swaps
#      lib/platform/deno.ts for lib/platform/node.ts: the platform seam's Node-API implementation.
#   2. Bun (`@oven/bun-linux-x64` from npm, pinned in tools/bin-runtime/) compiles that file with
#      its runtime into one executable (`bun build --compile`), as precompiled bytecode (start-up
#      CPU ~10 ms instead of ~38 ms for parsing the source), and never reading a `.env` or
#      `bunfig.toml` from the directory it runs in (Bun's default would).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export RUST_BACKTRACE=0 NO_COLOR=1
DENO="$ROOT/tools/node_modules/.bin/deno"
BUN="$ROOT/tools/bin-runtime/node_modules/@oven/bun-linux-x64/bin/bun"
OUT="$ROOT/dist/sshtrace-linux-x64"

if [[ ! -x "$BUN" ]]; then
  echo "binary: bun missing: npm ci in tools/bin-runtime"
  (cd "$ROOT/tools/bin-runtime" && npm ci --no-audit --no-fund >/dev/null)
fi

mkdir -p "$ROOT/dist"
# deno.json's import map plus the one remap (a relative key is resolved against dist/).
"$DENO" eval --quiet '
  const { imports } = JSON.parse(Deno.readTextFileSync("deno.json"));
  imports["../lib/platform/deno.ts"] = "../lib/platform/node.ts";
  Deno.writeTextFileSync("dist/import_map.json", JSON.stringify({ imports }, null, 2));
'
"$DENO" bundle --quiet --platform=deno --import-map dist/import_map.json \
  -o dist/sshtrace.js main.ts
# The worker of lib/algorithms/kem_prefetch.ts, a second entry point: the executable embeds it
# under the name the code asks for (`new URL("./_kem_worker.ts", import.meta.url)`).
"$DENO" bundle --quiet --platform=deno --import-map dist/import_map.json \
  -o dist/_kem_worker.ts lib/algorithms/_kem_worker.ts
if grep -q 'Deno\.' dist/sshtrace.js dist/_kem_worker.ts; then
  echo "binary: the bundle still uses Deno.* (the platform remap did not apply)" >&2
  exit 1
fi
"$BUN" build --compile --target=bun-linux-x64 --bytecode --format=esm \
  --no-compile-autoload-dotenv --no-compile-autoload-bunfig \
  dist/sshtrace.js dist/_kem_worker.ts --outfile "$OUT" >/dev/null
rm -f dist/sshtrace.js dist/_kem_worker.ts dist/import_map.json

size=$(stat -c %s "$OUT")
sha=$(sha256sum "$OUT" | cut -d' ' -f1)
echo "binary: $OUT"
echo "binary: size $size bytes ($((size / 1024 / 1024)) MiB), sha256 $sha"
echo "binary: $("$OUT" --version) ($("$BUN" --version) runtime)"
