#!/usr/bin/env bash
# Builds OpenSSH 10 (Debian 13 "trixie" source package) into .cache/openssh10/ once, for the
# interop tests that need a server with mlkem768x25519-sha256 (OpenSSH >= 9.9; Debian 12 ships
# 9.2). Cached: when .cache/openssh10/sbin/sshd runs, nothing is done.
#
# apt runs with a private configuration under .cache/openssh10/apt (a deb-src entry for trixie
# only), so the machine's own apt sources and lists are left untouched. Needs dpkg-dev, gcc,
# make, autoconf, libssl-dev and zlib1g-dev (installed here when missing).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache/openssh10"
PREFIX="$CACHE"
SSHD="$PREFIX/sbin/sshd"

# The build has its prefix compiled in (sshd execs $PREFIX/libexec/sshd-session): a copy made
# for another checkout path is rebuilt.
STAMP="$CACHE/built-for"
if [[ -x "$SSHD" ]] && [[ "$(cat "$STAMP" 2>/dev/null)" == "$PREFIX" ]] &&
  "$SSHD" -V 2>&1 | grep -q '^OpenSSH_1[0-9]'; then
  echo "build-openssh10: present ($("$SSHD" -V 2>&1 | head -n 1))"
  exit 0
fi

started=$(date +%s)
need=()
for pkg in dpkg-dev gcc make autoconf libssl-dev zlib1g-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || need+=("$pkg")
done
if ((${#need[@]})); then
  echo "build-openssh10: apt-get install ${need[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

APT="$CACHE/apt"
mkdir -p "$APT/lists/partial" "$APT/archives/partial" "$APT/etc/preferences.d" "$CACHE/src"
cat >"$APT/etc/sources.list" <<SOURCES
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
SOURCES
APT_OPTS=(-o "Dir::Etc::SourceList=$APT/etc/sources.list" -o "Dir::Etc::SourceParts=-"
  -o "Dir::Etc::Preferences=-" -o "Dir::Etc::PreferencesParts=$APT/etc/preferences.d"
  -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT" -o "APT::Sandbox::User=root")
echo "build-openssh10: fetching the trixie openssh source package"
apt-get "${APT_OPTS[@]}" update -qq >/dev/null
rm -rf "$CACHE/src" && mkdir -p "$CACHE/src"
(cd "$CACHE/src" && apt-get "${APT_OPTS[@]}" source -qq openssh >/dev/null 2>&1)
SRC="$(find "$CACHE/src" -maxdepth 1 -type d -name 'openssh-*' | head -n 1)"
[[ -n "$SRC" ]] || { echo "build-openssh10: no source tree unpacked" >&2; exit 1; }

echo "build-openssh10: building $(basename "$SRC") (about 2 minutes)"
cd "$SRC"
# Debian's patches change configure.ac, so configure is regenerated as Debian's build does.
autoreconf -f -i >"$CACHE/autoreconf.log" 2>&1 || { tail -n 30 "$CACHE/autoreconf.log" >&2; exit 1; }
# Privilege separation: /run/sshd as on Debian; the build's own config and key paths are
# never used (tests pass -f CONFIG and host keys explicitly).
./configure -q --prefix="$PREFIX" --sysconfdir="$PREFIX/etc" --without-pam \
  --with-privsep-path=/run/sshd --without-zlib-version-check >"$CACHE/configure.log" 2>&1 ||
  { tail -n 30 "$CACHE/configure.log" >&2; exit 1; }
make -s -j"$(nproc)" >"$CACHE/make.log" 2>&1 || { tail -n 30 "$CACHE/make.log" >&2; exit 1; }
# Install only what the tests use (no `make install`: it would generate host keys and man pages).
mkdir -p "$PREFIX/sbin" "$PREFIX/bin" "$PREFIX/libexec"
install -m 755 sshd "$PREFIX/sbin/sshd"
for helper in sshd-session sshd-auth sftp-server; do
  [[ -x "$helper" ]] && install -m 755 "$helper" "$PREFIX/libexec/$helper"
done
install -m 755 ssh ssh-keyscan ssh-keygen "$PREFIX/bin/"
rm -rf "$CACHE/src" "$APT/archives"
echo "$PREFIX" >"$STAMP"
echo "build-openssh10: built $("$SSHD" -V 2>&1 | head -n 1) in $(($(date +%s) - started)) s"
