#!/usr/bin/env bash
# Idempotent set-up of everything the test suite needs on a fresh Debian machine (run as root).
# Fast when everything is already present: the apt step is skipped then.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# libssl3: OpenSSL's libcrypto, which sshtrace uses through FFI for packet crypto (openssh-server
# pulls it in too; named so the dependency is explicit).
APT_PACKAGES=(openssh-server openssh-client dropbear-bin python3-asyncssh ssh-audit tmux sshpass
  hyperfine jq libssl3 proftpd-core proftpd-mod-crypto)
# The independent servers of test/interop/independent_test.ts (test/servers/): paramiko, Go's
# x/crypto/ssh (built in GOPATH mode from Debian's sources), Erlang/OTP's ssh, libssh (a C program
# compiled at test time).
APT_PACKAGES+=(python3-paramiko golang-go golang-golang-x-crypto-dev golang-golang-x-sys-dev
  erlang-base erlang-ssh erlang-crypto erlang-public-key libssh-dev gcc libc6-dev)

missing=()
for bin in /usr/sbin/sshd /usr/bin/ssh /usr/bin/ssh-keygen /usr/bin/ssh-keyscan /usr/sbin/dropbear \
  /usr/bin/ssh-audit /usr/bin/tmux /usr/bin/sshpass /usr/bin/hyperfine /usr/bin/jq /usr/sbin/proftpd; do
  [[ -x "$bin" ]] || missing+=("$bin")
done
if ! compgen -G "/usr/lib/*/libcrypto.so.3" >/dev/null && ! [[ -e /usr/lib/libcrypto.so.3 ]]; then
  missing+=("libssl3")
fi
# ProFTPD's mod_sftp (proftpd-mod-crypto): an SFTP-only server for the interop tests.
[[ -e /usr/lib/proftpd/mod_sftp.so ]] || missing+=("proftpd-mod-crypto")
if ! [[ -x /usr/bin/python3 ]] || ! /usr/bin/python3 -W ignore -c 'import asyncssh' >/dev/null 2>&1; then
  missing+=("python3-asyncssh")
fi
# The independent servers.
for file in /usr/bin/go /usr/bin/escript /usr/bin/cc \
  /usr/share/gocode/src/golang.org/x/crypto/ssh/server.go \
  /usr/share/gocode/src/golang.org/x/sys/cpu/cpu.go /usr/include/libssh/server.h; do
  [[ -e "$file" ]] || missing+=("$file")
done
compgen -G "/usr/lib/erlang/lib/ssh-*" >/dev/null || missing+=("erlang-ssh")
/usr/bin/python3 -W ignore -c 'import paramiko' >/dev/null 2>&1 || missing+=("python3-paramiko")

if ((${#missing[@]} == 0)); then
  echo "install-deps: system tools present (sshd, ssh, dropbear, asyncssh, ssh-audit, tmux, sshpass, hyperfine, jq, libcrypto.so.3, proftpd mod_sftp, paramiko, go + x/crypto, erlang ssh, libssh)"
else
  echo "install-deps: missing ${missing[*]}: apt-get install ${APT_PACKAGES[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${APT_PACKAGES[@]}" >/dev/null
fi

if [[ -x "$ROOT/tools/node_modules/.bin/deno" ]]; then
  echo "install-deps: deno present ($ROOT/tools/node_modules/.bin/deno)"
else
  echo "install-deps: deno missing: npm ci in $ROOT/tools"
  (cd "$ROOT/tools" && npm ci --no-audit --no-fund >/dev/null)
fi

mkdir -p /run/sshd
echo "install-deps: /run/sshd ready"

# --- OpenSSH >= 9.9 for the mlkem768x25519 interop tests and bench/pq.sh (issue 21) -----------
# Debian 12's sshd is 9.2: OpenSSH 10 is built once from Debian 13's source package into
# .cache/openssh10/ (about 70 s on 2 cores; cached afterwards). Skipped where the system sshd is
# already 9.9 or later.
if /usr/sbin/sshd -V 2>&1 | grep -qE '^OpenSSH_(9\.9|[1-9][0-9]\.)'; then
  echo "install-deps: system sshd is >= 9.9 ($(/usr/sbin/sshd -V 2>&1 | head -n 1)): no OpenSSH 10 build"
else
  # Not fatal: only the tests that need OpenSSH >= 9.9 fail (they retry the build) if it fails.
  bash "$ROOT/scripts/build-openssh10.sh" ||
    echo "install-deps: the OpenSSH 10 build failed; the tests that need OpenSSH >= 9.9 will fail"
fi
