#!/usr/bin/env bash
# Post-quantum key exchange, sshtrace vs OpenSSH (issue 21), each with the method on both sides:
#   (a) exec `true` with key auth and (b) one probe vs ssh-keyscan, against
#       - OpenSSH 9.2 (Debian 12's sshd) offering only sntrup761x25519-sha512@openssh.com, with
#         Debian 12's ssh / ssh-keyscan, and
#       - OpenSSH >= 9.9 (OpenSSH 10 built into .cache/ by scripts/build-openssh10.sh unless the
#         system's is new enough) offering only mlkem768x25519-sha256, with that build's ssh /
#         ssh-keyscan;
#   (c) the client's CPU for the post-quantum half in a cold process (bench/pq_kem_cost.ts).
# Beside `deno run -A main.ts` it times the standalone executable (dist/sshtrace-linux-x64, when
# built: `deno task binary`) and, for the probe, bench/probe_floor.ts: `deno run` of a raw client
# that stops where ssh-keyscan does (connect, version, KEXINIT, key pair, KEX_ECDH_INIT, the
# reply's first bytes), the floor of any probe in this runtime. The 9.2 sshd runs with UsePAM yes
# (the test harness's config), the OpenSSH 10 build has no PAM: exec `true` is measured against
# both, each with the same key exchange on both sides.
# Prints the tables and rewrites the block between the pq-results markers in BENCHMARKS.md.
#
#   bash bench/pq.sh            # 20 runs per row, in 4 alternating rounds (about 2 minutes)
#   QUICK=1 bash bench/pq.sh    # 4 runs
# Needs root (starts sshd, creates the test user).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DENO="$ROOT/tools/node_modules/deno/deno"
[[ -x "$DENO" ]] || DENO="$(command -v deno)"
export RUST_BACKTRACE=0 NO_COLOR=1
unset SSH_AUTH_SOCK
RUNS=20 ROUNDS=4
[[ "${QUICK:-0}" == 1 ]] && RUNS=4 ROUNDS=2
OUT="$ROOT/.cache/bench-pq"
rm -rf "$OUT"
mkdir -p "$OUT"
command -v hyperfine >/dev/null || { echo "bench: apt-get install hyperfine" >&2; exit 1; }

coproc S92 { "$DENO" run -A bench/sshd_server.ts --kex sntrup761x25519-sha512@openssh.com 2>"$OUT/s92.err"; }
S92_PID=$S92_PID
coproc S10 { "$DENO" run -A bench/sshd_server.ts --openssh99 --kex mlkem768x25519-sha256 2>"$OUT/s10.err"; }
S10_PID=$S10_PID
cleanup() {
  kill -TERM "$S92_PID" "$S10_PID" 2>/dev/null || true
  wait "$S92_PID" "$S10_PID" 2>/dev/null || true
}
trap cleanup EXIT
echo "" >"$OUT/empty.ts" # `deno run` of an empty script: the runtime's own start
read -r -t 600 INFO92 <&"${S92[0]}" || { cat "$OUT/s92.err" >&2; exit 1; }
read -r -t 600 INFO10 <&"${S10[0]}" || { cat "$OUT/s10.err" >&2; exit 1; }
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

ST=("$DENO" run -A "$ROOT/main.ts")
EXE="$ROOT/dist/sshtrace-linux-x64"
[[ -x "$EXE" ]] || EXE=""
# hf NAME LABEL=CMD...: ROUNDS rounds of RUNS/ROUNDS runs each, the order of the commands
# reversed every other round, so load from other jobs on the shared cores falls on all alike; the
# per-run times are pooled into $OUT/NAME.json (results in the order given; the last command is
# OpenSSH's, which the ratios are taken against).
hf() {
  local name=$1 r pair
  shift
  local labels=() cmds=()
  for pair in "$@"; do
    labels+=("${pair%%=*}")
    cmds+=("${pair#*=}")
  done
  for ((r = 0; r < ROUNDS; r++)); do
    local args=() i
    for ((i = 0; i < ${#cmds[@]}; i++)); do
      local j=$i
      ((r % 2)) && j=$((${#cmds[@]} - 1 - i))
      args+=(-n "${labels[j]}" "${cmds[j]}")
    done
    hyperfine -N --style none --warmup 1 --runs "$((RUNS / ROUNDS))" \
      --export-json "$OUT/$name.$r.json" "${args[@]}" >"$OUT/$name.$r.txt" 2>&1 ||
      { cat "$OUT/$name.$r.txt" >&2; exit 1; }
  done
  python3 - "$OUT" "$name" "$ROUNDS" "${labels[@]}" <<'PY'
import json, statistics, sys
out, name, rounds, labels = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
times = {l: [] for l in labels}
cpu = {l: [] for l in labels}
for r in range(rounds):
    for res in json.load(open(f"{out}/{name}.{r}.json"))["results"]:
        times[res["command"]] += res["times"]
        cpu[res["command"]].append(res["user"] + res["system"])
def summary(label):
    t = times[label]
    return {"command": label, "times": t, "mean": statistics.mean(t), "stddev": statistics.stdev(t),
            "median": statistics.median(t), "min": min(t), "max": max(t),
            "cpu": statistics.mean(cpu[label])}
json.dump({"results": [summary(l) for l in labels]}, open(f"{out}/{name}.json", "w"))
PY
}

for side in 92 10; do
  info=INFO$side
  info=${!info}
  port=$(field "$info" port) user=$(field "$info" user) key=$(field "$info" key)
  kh=$(field "$info" knownHosts) sshd=$(field "$info" sshd)
  echo "$side: $(field "$info" version) on 127.0.0.1:$port ($sshd)" >&2
  if [[ $side == 92 ]]; then
    kex=sntrup761x25519-sha512@openssh.com bindir=/usr/bin
  else
    kex=mlkem768x25519-sha256 bindir="$(dirname "$(dirname "$sshd")")/bin"
    [[ "$sshd" == /usr/sbin/sshd ]] && bindir=/usr/bin
  fi
  opts="-q --batch -i $key -o UserKnownHostsFile=$kh -o IdentitiesOnly=yes -p $port --kex $kex"
  st="${ST[*]} $opts"
  ssh="$bindir/ssh -F /dev/null -i $key -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=$kh -p $port -o KexAlgorithms=$kex"
  # Sanity: both log in, and sshtrace negotiates the method and runs its KEM where expected.
  $ssh "$user@127.0.0.1" true
  $st --json "$user@127.0.0.1" true >"$OUT/report-$side.json"
  python3 - "$OUT/report-$side.json" "$kex" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["kex"]["algorithm"] == sys.argv[2], r["kex"]["algorithm"]
print("  sshtrace negotiated", r["kex"]["algorithm"], "KEM by", r["kex"]["kemBackend"]["detail"], file=sys.stderr)
PY
  echo "$ssh -V: $($bindir/ssh -V 2>&1)" >"$OUT/ssh-$side.txt"
  exe="$EXE $opts"
  echo "(a) exec true, $kex" >&2
  hf "exec-$side" "deno=$st $user@127.0.0.1 true" \
    ${EXE:+"executable=$exe $user@127.0.0.1 true"} "ssh=$ssh $user@127.0.0.1 true"
  echo "(b) probe, $kex" >&2
  hf "probe-$side" "deno=${ST[*]} probe -q --kex $kex 127.0.0.1:$port" \
    ${EXE:+"executable=$EXE probe -q --kex $kex 127.0.0.1:$port"} \
    "floor=$DENO run -A $ROOT/bench/probe_floor.ts $port $kex" \
    "empty=$DENO run -A $OUT/empty.ts" \
    "ssh-keyscan=$bindir/ssh-keyscan -t ed25519 -p $port 127.0.0.1"
done

echo "(c) KEM cost in a cold process" >&2
"$DENO" run -A bench/pq_kem_cost.ts "$([[ "${QUICK:-0}" == 1 ]] && echo 5 || echo 15)" >"$OUT/kem.md"

{
  echo "Run $(date -u '+%Y-%m-%d %H:%M') UTC; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "(2 CPUs shared with other jobs). hyperfine -N, $RUNS runs per command in $ROUNDS rounds that"
  echo "alternate which command goes first (1 warmup each); whole processes."
  echo
  for side in 92 10; do
    python3 - "$OUT" "$side" <<'PY'
import json, sys
out, side = sys.argv[1], sys.argv[2]
title = {"92": "OpenSSH 9.2 (Debian 12, UsePAM yes), sntrup761x25519-sha512@openssh.com on both sides",
         "10": "OpenSSH 10 (Debian 13 source, built without PAM), mlkem768x25519-sha256 on both sides"}[side]
names = {"deno": "sshtrace, `deno run`", "executable": "sshtrace, standalone executable",
         "floor": "floor: raw client, `deno run` (bench/probe_floor.ts)",
         "empty": "`deno run` of an empty script", "ssh": "ssh", "ssh-keyscan": "ssh-keyscan -t ed25519"}
print(f"#### {title}")
print()
print("| what | client | mean ± σ (median) | ratio to OpenSSH by mean (median) | target | client CPU (user+sys) |")
print("| --- | --- | --- | --- | --- | --- |")
for kind, target in (("exec", 1.15), ("probe", 1.3)):
    res = json.load(open(f"{out}/{kind}-{side}.json"))["results"]
    peer = res[-1]
    what = "exec `true`, key auth" if kind == "exec" else "probe"
    for r in res:
        fmt = f"{r['mean']*1000:.1f} ms ± {r['stddev']*1000:.1f} ({r['median']*1000:.1f})"
        cpu = f"{r['cpu']*1000:.0f} ms"
        if r is peer:
            print(f"| {what} | {names[r['command']]} | {fmt} | 1 | | {cpu} |")
            continue
        ratio, mratio = r["mean"] / peer["mean"], r["median"] / peer["median"]
        client = r["command"] in ("deno", "executable")
        ok = ("met" if ratio <= target else "not met") if client else ""
        print(f"| {what} | {names[r['command']]} | {fmt} | **{ratio:.2f}×** ({mratio:.2f}×) | {f'≤ {target}×: {ok}' if client else ''} | {cpu} |")
print()
PY
  done
  echo "#### The post-quantum half alone (bench/pq_kem_cost.ts)"
  echo
  cat "$OUT/kem.md"
} >"$OUT/results.md"
cat "$OUT/results.md"

python3 - "$ROOT/BENCHMARKS.md" "$OUT/results.md" <<'PY'
import sys
path, res = sys.argv[1], open(sys.argv[2]).read()
text = open(path).read()
start, end = "<!-- pq-results:start -->", "<!-- pq-results:end -->"
if start in text and end in text:
    a, b = text.index(start) + len(start), text.index(end)
    text = text[:a] + "\n\n" + res.strip() + "\n\n" + text[b:]
    open(path, "w").write(text)
PY
"$DENO" fmt -q "$ROOT/BENCHMARKS.md" # the written block, wrapped as the repository formats it
