# The benchmarks' sshd (sourced by bench/run.sh and bench/transfer.sh, not run): starts
# bench/sshd_server.ts (a real OpenSSH sshd from the test harness, MaxStartups 1000, the test
# user with a fresh key) as a coprocess and sets INFO (its JSON line), PORT, USER_NAME, KEY and
# KH (known_hosts). The server stops when the calling script exits (an EXIT trap; more cleanup
# can be added with bench_on_exit). With BENCH_SSHD_INFO set (a JSON line from a server already
# running, as bench/run.sh passes it to bench/transfer.sh), that server is used instead.
#
#   source bench/_sshd.sh; bench_sshd "$OUT"     # needs DENO; root (sshd, the test user)

BENCH_EXIT_HOOKS=()
bench_on_exit() { BENCH_EXIT_HOOKS+=("$1"); }
_bench_exit() {
  local hook
  for hook in "${BENCH_EXIT_HOOKS[@]}"; do eval "$hook" || true; done
  if [[ -n "${BENCH_SRV_PID:-}" ]]; then
    kill -TERM "$BENCH_SRV_PID" 2>/dev/null || true
    wait "$BENCH_SRV_PID" 2>/dev/null || true
  fi
}
trap _bench_exit EXIT

# bench_sshd OUTDIR [sshd_server.ts options…]: the server's stderr goes to OUTDIR/sshd.err.
bench_sshd() {
  local out=$1
  shift
  if [[ -n "${BENCH_SSHD_INFO:-}" ]]; then
    INFO="$BENCH_SSHD_INFO"
  else
    coproc BENCH_SRV { "$DENO" run -A bench/sshd_server.ts "$@" 2>"$out/sshd.err"; }
    BENCH_SRV_PID=$BENCH_SRV_PID
    if ! read -r -t 60 INFO <&"${BENCH_SRV[0]}"; then
      echo "bench: the sshd did not start:" >&2
      cat "$out/sshd.err" >&2
      exit 1
    fi
  fi
  PORT="$(bench_field port)"
  USER_NAME="$(bench_field user)"
  KEY="$(bench_field key)"
  KH="$(bench_field knownHosts)"
}

# bench_field NAME: a field of the server's JSON line.
bench_field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$INFO" "$1"; }
