#!/usr/bin/env bash
# Courier's POP3 server for the import-uidls tests (test/helpers/courier-pop3.ts). Debian's
# courier-pop conflicts with dovecot-pop3d (both provide pop3-server), so it is never installed:
# its packages are downloaded and unpacked into a private folder, and the tests run its pop3d
# from there. Cached: nothing happens when it is there already. Prints the folder.
set -euo pipefail

cache="${R2D2_TEST_CACHE:-/var/cache/r2d2-test}/courier"
pop3d="$cache/root/usr/lib/courier/courier/courierpop3d"
if [ ! -x "$pop3d" ]; then
  as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
  # courierpop3d needs libcourierauth (courier-authlib) and libcourier-unicode; libidn12 is a
  # plain install (scripts/test-env.sh).
  packages=(courier-pop courier-authlib libcourier-unicode4)
  debs="$cache/debs"
  as_root mkdir -p "$debs"
  as_root chmod 777 "$debs" # apt-get download runs its fetch as _apt
  if ! (cd "$debs" && apt-get download -qq "${packages[@]}" 2>/dev/null); then
    as_root apt-get update -qq
    (cd "$debs" && apt-get download -qq "${packages[@]}")
  fi
  # Unpacked aside and moved into place whole: two runs at once never see half a folder.
  fresh="$cache/root.new.$$"
  as_root mkdir -p "$fresh"
  for deb in "$debs"/*.deb; do as_root dpkg-deb -x "$deb" "$fresh"; done
  if [ -x "$pop3d" ]; then as_root rm -rf "$fresh"; else as_root rm -rf "$cache/root" && as_root mv "$fresh" "$cache/root"; fi
  as_root chmod 755 "$debs"
fi
echo "$cache/root"
