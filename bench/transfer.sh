#!/usr/bin/env bash
# File transfer: sshtrace get/put over SFTP and SCP vs OpenSSH's `sftp -b` and `scp -O`, one
# 256 MiB file each way against one local sshd (bench/sshd_server.ts), wall time → MB/s, and each
# client's peak memory (/usr/bin/time -v). sshtrace's times include its start (Deno, login); it
# runs as the installed command does (`deno task sshtrace`'s V8 flags).
# RUNS rounds, each of the eight copies in turn (so each pair shares the machine's load); each
# row's result is its median run (by MB/s).
#
#   bash bench/transfer.sh          # SIZE_MIB=256 RUNS=3 by default
#   FOUR_GIB=1 bash bench/transfer.sh   # only: sshtrace get of a 4 GiB + 1 MiB file (offsets
#                                       # past 2^32), checksum and peak RSS
# Needs root (the harness starts sshd and creates the test user). bench/run.sh runs it as its
# section (h) against its own sshd; results also go to $TRANSFER_OUT/results.tsv (name, MB/s,
# seconds, peak RSS KiB of the median run; every run in runs.tsv) for bench/report.ts.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DENO="$ROOT/tools/node_modules/deno/deno"
[[ -x "$DENO" ]] || DENO="$(command -v deno)"
export RUST_BACKTRACE=0 NO_COLOR=1
unset SSH_AUTH_SOCK
SIZE_MIB="${SIZE_MIB:-256}"
RUNS="${RUNS:-3}"
BYTES=$((SIZE_MIB * 1048576))

OUT="${TRANSFER_OUT:-$ROOT/.cache/bench-transfer}"
rm -rf "$OUT"
mkdir -p "$OUT"
# The sshd: bench/_sshd.sh's (bench/run.sh passes its own in BENCH_SSHD_INFO).
source bench/_sshd.sh
bench_on_exit '[[ -n "${REMOTE_DIR:-}" ]] && rm -rf "$REMOTE_DIR"'
bench_sshd "$OUT"
HOME_DIR=$(getent passwd "$USER_NAME" | cut -d: -f6)
REMOTE_DIR="$HOME_DIR/bench-transfer"
rm -rf "$REMOTE_DIR" && mkdir -p "$REMOTE_DIR" && chown "$USER_NAME:" "$REMOTE_DIR"
head -c "$BYTES" /dev/urandom >"$REMOTE_DIR/src.bin"
chown "$USER_NAME:" "$REMOTE_DIR/src.bin"
cp "$REMOTE_DIR/src.bin" "$OUT/src.bin"
SUM=$(sha256sum <"$OUT/src.bin" | cut -d' ' -f1)

# The V8 flags of `deno task sshtrace` (the same as scripts/install.sh's).
V8_FLAGS=$(python3 -c 'import json,re; print(re.search(r"--v8-flags=\S+", json.load(open("deno.json"))["tasks"]["sshtrace"]).group(0))')
SSHTRACE=("$DENO" run -A "$V8_FLAGS" main.ts)
ST_OPTS=(-q -P "$PORT" -i "$KEY" -o "UserKnownHostsFile=$KH" -o StrictHostKeyChecking=yes)
SSH_OPTS=(-q -P "$PORT" -i "$KEY" -o "UserKnownHostsFile=$KH" -o StrictHostKeyChecking=yes -o BatchMode=yes)
AT="$USER_NAME@127.0.0.1"

# measure NAME CHECKFILE CMD...: wall seconds and peak RSS of CMD, then the checksum of CHECKFILE
measure() {
  local name=$1 check=$2
  shift 2
  rm -f "$check"
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -v "$@" 2>"$OUT/$name.time" >/dev/null || { cat "$OUT/$name.time" >&2; exit 1; }
  end=$(date +%s.%N)
  local rss sum
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/$name.time")
  sum=$(sha256sum <"$check" | cut -d' ' -f1)
  [[ "$sum" == "$SUM" ]] || { echo "bench: $name: checksum differs" >&2; exit 1; }
  python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'%-28s %7.1f MB/s  %6.2f s  peak RSS %6.1f MiB' % (sys.argv[3], $BYTES/1e6/s, s, int(sys.argv[4])/1024)); open(sys.argv[5], 'a').write(f'{sys.argv[3]}\\t{$BYTES/1e6/s:.1f}\\t{s:.3f}\\t{sys.argv[4]}\\n')" \
    "$start" "$end" "$name" "$rss" "$OUT/runs.tsv"
}

# medians: each name's median run (by MB/s) from runs.tsv into results.tsv, and printed.
medians() {
  python3 - "$OUT/runs.tsv" "$OUT/results.tsv" <<'PY'
import sys
runs = {}
for line in open(sys.argv[1]):
    name, rate, secs, kib = line.rstrip("\n").split("\t")
    runs.setdefault(name, []).append((float(rate), secs, kib))
with open(sys.argv[2], "w") as out:
    for name, rs in runs.items():
        rate, secs, kib = sorted(rs)[(len(rs) - 1) // 2]
        out.write(f"{name}\t{rate:.1f}\t{secs}\t{kib}\n")
        all_rates = " ".join(f"{r:.0f}" for r, _, _ in rs)
        print(f"median {name:<22} {rate:7.1f} MB/s  peak RSS {int(kib) / 1024:6.1f} MiB  (runs: {all_rates})")
PY
}

if [[ "${FOUR_GIB:-0}" == 1 ]]; then
  BIG=$((4 * 1073741824 + 1048576))
  head -c 1048576 /dev/urandom >"$OUT/tail.bin"
  # Sparse but for its last MiB, which is random: bytes past 2^32 must arrive intact.
  truncate -s $((BIG - 1048576)) "$REMOTE_DIR/big.bin"
  cat "$OUT/tail.bin" >>"$REMOTE_DIR/big.bin"
  chown "$USER_NAME:" "$REMOTE_DIR/big.bin"
  SUM=$(sha256sum <"$REMOTE_DIR/big.bin" | cut -d' ' -f1)
  BYTES=$BIG
  echo "# 4 GiB + 1 MiB, sshd $(bench_field version), $(nproc) cores; $(uptime | sed 's/.*load/load/')"
  measure "sshtrace get 4 GiB (sftp)" "$OUT/big.bin" \
    "${SSHTRACE[@]}" get "${ST_OPTS[@]}" --protocol sftp "$AT:$REMOTE_DIR/big.bin" "$OUT/big.bin"
  rm -f "$OUT/big.bin"
  cp "$OUT/runs.tsv" "$OUT/results.tsv"
  exit 0
fi

echo "# ${SIZE_MIB} MiB, $RUNS rounds, sshtrace $V8_FLAGS, sshd $(bench_field version), $(nproc) cores; $(uptime | sed 's/.*load/load/')"
echo "$RUNS" >"$OUT/runs"
for _ in $(seq "$RUNS"); do
  measure "openssh sftp -b get" "$OUT/dl.bin" \
    sftp "${SSH_OPTS[@]}" -b <(echo "get $REMOTE_DIR/src.bin $OUT/dl.bin") "$AT"
  measure "sshtrace get (sftp)" "$OUT/dl.bin" \
    "${SSHTRACE[@]}" get "${ST_OPTS[@]}" --protocol sftp "$AT:$REMOTE_DIR/src.bin" "$OUT/dl.bin"
  measure "openssh scp -O get" "$OUT/dl.bin" \
    scp "${SSH_OPTS[@]}" -O "$AT:$REMOTE_DIR/src.bin" "$OUT/dl.bin"
  measure "sshtrace get (scp)" "$OUT/dl.bin" \
    "${SSHTRACE[@]}" get "${ST_OPTS[@]}" --protocol scp "$AT:$REMOTE_DIR/src.bin" "$OUT/dl.bin"
  measure "openssh sftp -b put" "$REMOTE_DIR/up.bin" \
    sftp "${SSH_OPTS[@]}" -b <(echo "put $OUT/src.bin $REMOTE_DIR/up.bin") "$AT"
  measure "sshtrace put (sftp)" "$REMOTE_DIR/up.bin" \
    "${SSHTRACE[@]}" put "${ST_OPTS[@]}" --protocol sftp "$OUT/src.bin" "$AT:$REMOTE_DIR/up.bin"
  measure "openssh scp -O put" "$REMOTE_DIR/up.bin" \
    scp "${SSH_OPTS[@]}" -O "$OUT/src.bin" "$AT:$REMOTE_DIR/up.bin"
  measure "sshtrace put (scp)" "$REMOTE_DIR/up.bin" \
    "${SSHTRACE[@]}" put "${ST_OPTS[@]}" --protocol scp "$OUT/src.bin" "$AT:$REMOTE_DIR/up.bin"
done
medians
