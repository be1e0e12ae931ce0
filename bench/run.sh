#!/usr/bin/env bash
# sshtrace vs OpenSSH (and ssh-keyscan, ssh-audit) against one local sshd, in one run:
#   (a) authenticated exec of `true`, whole process      (hyperfine, warmup)
#   (b) one probe vs ssh-keyscan                         (hyperfine, warmup)
#   (c) 256 MiB download per cipher, MB/s                (hyperfine)
#       and aes128-gcm through one jump host (the same sshd): sshtrace -J vs ssh -W as ProxyCommand
#   (d) fleet check over 500 inventory entries, hosts/s  (sshtrace check, ssh-keyscan -f, ssh-audit -T)
#   (e) peak memory of each                              (/usr/bin/time -v: maximum resident set size)
#   (f) where startup time goes                          (deno runtime, module loading, CLI)
#   (g) crypto ceiling: the primitives' own MB/s         (bench/crypto_ceiling.ts)
#   (h) file transfer: 256 MiB get/put over SFTP and SCP vs sftp -b / scp -O, MB/s and peak
#       RSS of each (bench/transfer.sh, against the same sshd)
# Prints a side-by-side table with ratios and rewrites the results block of BENCHMARKS.md.
#
#   bash bench/run.sh            # full run (about 5 minutes on 2 cores)
#   QUICK=1 bash bench/run.sh    # fewer runs and a 100-entry fleet, for a smoke test
#   PROFILE=1 bash bench/run.sh  # also a V8 tick profile of one aes128-gcm download
# Needs root (the harness starts sshd and creates the test user).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DENO="$ROOT/tools/node_modules/deno/deno"
[[ -x "$DENO" ]] || DENO="$(command -v deno)"
export RUST_BACKTRACE=0 NO_COLOR=1
unset SSH_AUTH_SOCK # both clients use the key file only

QUICK="${QUICK:-0}"
if [[ "$QUICK" == 1 ]]; then
  RUNS=5 DL_RUNS=1 FLEET=100
else
  RUNS=20 DL_RUNS=3 FLEET=500
fi
DL_BYTES=268435456

need() { command -v "$1" >/dev/null 2>&1 || { echo "bench: $1 is not installed ($2)" >&2; exit 1; }; }
if [[ ! -x /usr/bin/time ]]; then
  echo "bench: installing GNU time (Debian package 'time') for peak memory" >&2
  apt-get install -y -qq time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
fi
need hyperfine "apt-get install hyperfine"
need ssh "apt-get install openssh-client"
need ssh-keyscan "apt-get install openssh-client"
need ssh-audit "apt-get install ssh-audit"
need python3 "apt-get install python3"

OUT="$ROOT/.cache/bench"
rm -rf "$OUT"
mkdir -p "$OUT"

# --- the server (bench/_sshd.sh: stops when this script exits) --------------------------------
source bench/_sshd.sh
bench_sshd "$OUT"
echo "sshd on 127.0.0.1:$PORT (user $USER_NAME, MaxStartups 1000)" >&2

SSHTRACE=("$DENO" run -A "$ROOT/main.ts")
ST="${SSHTRACE[*]}"
ST_LOGIN="$ST -q --batch -i $KEY -o UserKnownHostsFile=$KH -o IdentitiesOnly=yes -p $PORT"
SSH="ssh -F /dev/null -i $KEY -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=$KH -p $PORT"
TARGET="$USER_NAME@127.0.0.1"

# `sshtrace check`, or the stand-in while main.ts has no check subcommand yet.
if "${SSHTRACE[@]}" --help 2>/dev/null | grep -qE '^ +check( |$)'; then
  CHECK="$ST check -q"
else
  CHECK="$DENO run -A $ROOT/bench/check_cli.ts"
  echo "bench: main.ts has no 'check' subcommand yet; using bench/check_cli.ts (same runCheck)" >&2
fi

# Sanity: both clients log in, and sshtrace really negotiates the cipher each row names.
$SSH "$TARGET" true || { echo "bench: ssh cannot log in" >&2; exit 1; }
$ST_LOGIN "$TARGET" true || { echo "bench: sshtrace cannot log in" >&2; exit 1; }

hf() { # hf NAME WARMUP RUNS CMD...
  local name=$1 warmup=$2 runs=$3
  shift 3
  hyperfine -N --style none --warmup "$warmup" --runs "$runs" --export-json "$OUT/$name.json" "$@" \
    >"$OUT/$name.txt" 2>&1 || { cat "$OUT/$name.txt" >&2; exit 1; }
}
mem() { # mem NAME CMD... : peak RSS (KiB) and wall seconds of one run
  local name=$1
  shift
  /usr/bin/time -f "%M %e %x" -o "$OUT/mem-$name.txt" bash -c "$* >/dev/null 2>&1" || true
}

echo "(a) exec true" >&2
# Against OpenSSH 9.2 both clients' defaults pick sntrup761x25519-sha512 (post-quantum, ~35–90 ms
# of client CPU). The third row: ssh with the classical curve25519-sha256, for comparison with
# runs before sshtrace had sntrup761x25519 (issue 21).
hf exec 3 "$RUNS" "$ST_LOGIN $TARGET true" "$SSH $TARGET true" \
  "$SSH -o KexAlgorithms=curve25519-sha256 $TARGET true"

echo "(b) probe" >&2
hf probe 3 "$RUNS" "$ST probe -q 127.0.0.1:$PORT" "ssh-keyscan -t ed25519 -p $PORT 127.0.0.1"

echo "(c) 256 MiB downloads" >&2
DL="head -c $DL_BYTES /dev/zero"
declare -A ST_ALG=(
  [gcm]="--ciphers aes128-gcm@openssh.com"
  [ctr]="--ciphers aes256-ctr --macs hmac-sha2-256-etm@openssh.com"
  [chacha]="--ciphers chacha20-poly1305@openssh.com"
)
declare -A SSH_ALG=(
  [gcm]="-c aes128-gcm@openssh.com"
  [ctr]="-c aes256-ctr -m hmac-sha2-256-etm@openssh.com"
  [chacha]="-c chacha20-poly1305@openssh.com"
)
for c in gcm ctr chacha; do
  # The cipher (and MAC) sshtrace negotiated, from its JSON report.
  $ST_LOGIN ${ST_ALG[$c]} --json "$TARGET" true >"$OUT/alg-$c.json"
  hf "dl-$c" 1 "$DL_RUNS" "$ST_LOGIN ${ST_ALG[$c]} $TARGET '$DL'" "$SSH ${SSH_ALG[$c]} $TARGET '$DL'"
done

# Through one jump host (the same sshd as bastion and target). As with ssh -J, the jump host
# gets -F but not -i or -o, so its key and known_hosts come from a Host block; for ssh the
# ProxyCommand that -J stands for is spelled out instead.
cat >"$OUT/jump_config" <<EOF
Host bench-jump
  HostName 127.0.0.1
  Port $PORT
  User $USER_NAME
  IdentityFile $KEY
  IdentitiesOnly yes
  UserKnownHostsFile $KH
  BatchMode yes
EOF
hf dl-jump 1 "$DL_RUNS" \
  "$ST_LOGIN -F $OUT/jump_config ${ST_ALG[gcm]} -J bench-jump $TARGET '$DL'" \
  "$SSH ${SSH_ALG[gcm]} -o ProxyCommand='$SSH -W %h:%p $TARGET' $TARGET '$DL'"

echo "(d) fleet check over $FLEET entries" >&2
: >"$OUT/inventory.txt"
: >"$OUT/keyscan.txt"
for ((i = 0; i < FLEET; i++)); do
  echo "127.0.0.1:$PORT" >>"$OUT/inventory.txt"
  echo "127.0.0.1" >>"$OUT/keyscan.txt"
done
/usr/bin/time -f "%M %e %x" -o "$OUT/mem-check-sshtrace.txt" \
  $CHECK --concurrency 32 "$OUT/inventory.txt" >"$OUT/check-sshtrace.out" 2>&1 || true
/usr/bin/time -f "%M %e %x" -o "$OUT/mem-check-keyscan.txt" \
  ssh-keyscan -t ed25519 -p "$PORT" -f "$OUT/keyscan.txt" >"$OUT/check-keyscan.out" 2>/dev/null || true
/usr/bin/time -f "%M %e %x" -o "$OUT/mem-check-audit.txt" \
  ssh-audit -n --threads=32 -T "$OUT/inventory.txt" >"$OUT/check-audit.out" 2>&1 || true
grep -c ' ssh-ed25519 ' "$OUT/check-keyscan.out" >"$OUT/check-keyscan.count" || true
grep -c '(gen) target: 127\.0\.0\.1' "$OUT/check-audit.out" >"$OUT/check-audit.count" || true

echo "(e) peak memory" >&2
mem exec-sshtrace "$ST_LOGIN $TARGET true"
mem exec-ssh "$SSH $TARGET true"
mem probe-sshtrace "$ST probe -q 127.0.0.1:$PORT"
mem probe-keyscan "ssh-keyscan -t ed25519 -p $PORT 127.0.0.1"
for c in gcm ctr chacha; do
  mem "dl-$c-sshtrace" "$ST_LOGIN ${ST_ALG[$c]} $TARGET '$DL'"
  mem "dl-$c-ssh" "$SSH ${SSH_ALG[$c]} $TARGET '$DL'"
done

echo "(f) startup" >&2
echo 'Deno.exit(0);' >"$OUT/empty.ts"
echo 'import "../../main.ts";' >"$OUT/import_main.ts"
hf startup 3 "$RUNS" "$DENO run -A $OUT/empty.ts" "$DENO run -A $OUT/import_main.ts" "$ST --version"

echo "(g) crypto ceiling" >&2
"$DENO" run -A bench/crypto_ceiling.ts >"$OUT/crypto.txt" 2>&1 || true

echo "(h) file transfer" >&2
BENCH_SSHD_INFO="$INFO" TRANSFER_OUT="$OUT/transfer" RUNS=3 SIZE_MIB="$((DL_BYTES / 1048576))" \
  bash bench/transfer.sh >&2 || echo "bench: the transfer section failed (its table is left out)" >&2

if [[ "${PROFILE:-0}" == 1 ]]; then
  echo "(profile) V8 ticks of one aes128-gcm download" >&2
  mkdir -p "$OUT/prof"
  (cd "$OUT/prof" && "$DENO" run -A --v8-flags=--prof "$ROOT/main.ts" -q --batch -i "$KEY" \
    -o UserKnownHostsFile="$KH" -p "$PORT" --ciphers aes128-gcm@openssh.com "$TARGET" "$DL" >/dev/null)
  if command -v node >/dev/null; then
    node --prof-process "$OUT"/prof/isolate-*.log >"$OUT/profile.txt" 2>/dev/null || true
  fi
fi

{
  echo "date=$(date -u '+%Y-%m-%d %H:%M')"
  echo "nproc=$(nproc)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "mem=$(grep -m1 MemTotal /proc/meminfo | awk '{print $2}')"
  echo "deno=$("$DENO" --version | head -1)"
  echo "ssh=$(ssh -V 2>&1)"
  echo "audit=$(ssh-audit 2>&1 | grep -m1 -o 'ssh-audit v[0-9.]*' || true)"
  echo "kernel=$(uname -r)"
  echo "fleet=$FLEET"
  echo "runs=$RUNS"
  echo "dl_runs=$DL_RUNS"
  echo "dl_bytes=$DL_BYTES"
  echo "check_cmd=$CHECK"
} >"$OUT/machine.txt"

"$DENO" run -A bench/report.ts "$OUT" "$ROOT/BENCHMARKS.md"
"$DENO" fmt -q "$ROOT/BENCHMARKS.md" # the written block, wrapped as the repository formats it
