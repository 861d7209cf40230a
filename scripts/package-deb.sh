#!/usr/bin/env bash
# `npm run package:deb [-- --out DIR] [-- --prebuilt]`: builds r2d2_<version>_<arch>.deb with
# dpkg-deb alone (no debhelper). The package runs on the nodejs package (NodeSource's Node 20;
# Debian 12's own nodejs is 18): the code compiled from scratch, the production node_modules of
# this checkout (their native addons were built for this Node 20's ABI, hence nodejs << 21),
# /usr/bin/r2d2, /etc/r2d2/personality as conffiles, the systemd unit (neither started nor
# enabled on install), a system user r2d2 made by postinst, and /var/lib/r2d2.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=$root
prebuilt=no
while [ $# -gt 0 ]; do
  case "$1" in
  --out) out=$2; shift 2 ;;
  # Take dist/src as `npm run build` left it (the test suite just built it) instead of compiling.
  --prebuilt) prebuilt=yes; shift ;;
  *) echo "usage: package-deb.sh [--out DIR] [--prebuilt]" >&2; exit 64 ;;
  esac
done

version=$(node -p "require('$root/package.json').version")
arch=$(dpkg --print-architecture)
glibc=$(dpkg-query -W -f='${Version}' libc6 | sed -E 's/^([0-9]+\.[0-9]+).*/\1/')
deb="$out/r2d2_${version}_${arch}.deb"
stage=$(mktemp -d "${TMPDIR:-/tmp}/r2d2-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"
lib=$stage/usr/lib/r2d2

# The code: compiled from the sources alone into the package, so no stale or test file rides along
# (--prebuilt: the compiled file of each source, and nothing else, from dist/).
mkdir -p "$lib/bin" "$lib/dist"
if [ "$prebuilt" = yes ]; then
  (cd "$root" && find src -name '*.ts' ! -name '*.d.ts' | sed 's/\.ts$/.js/') | tar -C "$root/dist" -cf - -T - | tar -C "$lib/dist" -xf -
else
  (cd "$root" && npx tsc -p scripts/tsconfig.package.json --outDir "$lib/dist")
fi
install -m 0755 "$root/bin/r2d2" "$lib/bin/r2d2"
install -m 0644 "$root/package.json" "$lib/package.json"

# Production node_modules: what `npm ls --omit=dev` names, copied as installed here (native
# addons included), without build intermediates and C sources nothing loads at run time.
# Sorted, a package comes before the node_modules nested in it.
(cd "$root" && npm ls --omit=dev --all --parseable) | tail -n +2 | sort | while read -r dir; do
  rel=${dir#"$root"/}
  mkdir -p "$lib/$(dirname "$rel")"
  [ -e "$lib/$rel" ] || cp -a "$(readlink -f "$dir")" "$lib/$rel"
done
find "$lib/node_modules" -name binding.gyp -printf '%h\n' | while read -r addon; do
  find "$addon/build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} + 2>/dev/null || true
  find "$addon/build/Release" -mindepth 1 ! -name '*.node' -prune -exec rm -rf {} + 2>/dev/null || true
  rm -f "$addon/build/Release/test_extension.node"
  rm -rf "$addon/deps" "$addon/src"
done
find "$lib/node_modules" \( -name '*.map' -o -name '*.ts' ! -name '*.d.ts' \) -type f -delete

# The CLI, the personality (conffiles), the unit, the state folder, the documentation.
mkdir -p "$stage/usr/bin" "$stage/etc/r2d2/personality/modules" "$stage/lib/systemd/system" "$stage/var/lib/r2d2" \
  "$stage/usr/share/doc/r2d2/examples"
ln -s ../lib/r2d2/bin/r2d2 "$stage/usr/bin/r2d2"
# Under the package's unit r2d2 runs as the user r2d2 and its sessions too: no uid/gid in c11n.
perl -0pe 's/^uid = .*\ngid = .*\n/# The Debian package'\''s unit starts r2d2 as the user r2d2 (User=), and sessions run as that\n# user: leave uid and gid unset. (Started as root instead, name the maildirs'\'' owner here.)\n# uid = vmail\n# gid = vmail\n/m' \
  "$root/personality/c11n" >"$stage/etc/r2d2/personality/c11n"
grep -q '^# uid = vmail$' "$stage/etc/r2d2/personality/c11n" || { echo "package-deb: uid/gid not found in personality/c11n" >&2; exit 1; }
install -m 0644 "$root"/personality/modules/*.c11n "$stage/etc/r2d2/personality/modules/"
sed -e 's/^User=mail$/User=r2d2/' -e 's/^Group=mail$/Group=r2d2/' \
  -e "s/; mail is Debian's\.\$/; the package made r2d2 (systemctl edit r2d2 for another)./" \
  -e '/^# systemd unit for r2d2\. Install:$/,/^#   systemctl daemon-reload/c\# systemd unit for r2d2, installed by its Debian package. Configure /etc/r2d2/personality,\n# then: systemctl enable --now r2d2' \
  "$root/personality/r2d2.service" >"$stage/lib/systemd/system/r2d2.service"
grep -q '^User=r2d2$' "$stage/lib/systemd/system/r2d2.service" || { echo "package-deb: User= not found in personality/r2d2.service" >&2; exit 1; }
chmod 0644 "$stage/etc/r2d2/personality/c11n" "$stage/lib/systemd/system/r2d2.service"
doc=$stage/usr/share/doc/r2d2
gzip -9n <"$root/README.md" >"$doc/README.md.gz"
cp -r "$root/personality/rsyslog" "$root/personality/fail2ban" "$root/personality/svsdir" "$doc/examples/"
install -m 0644 "$root/personality/mailbox.sql" "$doc/examples/"
cat >"$doc/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: r2d2
Source: https://github.com/r2d2/r2d2

Files: *
License: MIT
 The bundled Node.js modules under /usr/lib/r2d2/node_modules carry their own
 licenses (each in its folder).
COPYRIGHT
printf 'r2d2 (%s) unstable; urgency=medium\n\n  * Built from the r2d2 source tree.\n\n -- r2d2 maintainers <root@localhost>  %s\n' \
  "$version" "$(date -R)" | gzip -9n >"$doc/changelog.Debian.gz"

# Package metadata and maintainer scripts.
mkdir -p "$stage/DEBIAN"
install -m 0755 "$root"/scripts/deb/{postinst,prerm,postrm} "$stage/DEBIAN/"
(cd "$stage" && find etc -type f | sed 's|^|/|' | sort) >"$stage/DEBIAN/conffiles"
cat >"$stage/DEBIAN/control" <<CONTROL
Package: r2d2
Version: $version
Architecture: $arch
Maintainer: ${DEBFULLNAME:-r2d2 maintainers} <${DEBEMAIL:-root@localhost}>
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Depends: nodejs (>= 20), nodejs (<< 21), adduser, libc6 (>= $glibc)
Section: mail
Priority: optional
Homepage: https://github.com/r2d2/r2d2
Description: POP3 server for Maildir maildrops with MySQL/MariaDB accounts
 r2d2 is an RFC 1939 POP3 server (STLS and POP3S) for mail providers that keep
 their accounts in MySQL or MariaDB and their mail in Maildir maildrops. It runs
 many sessions per worker thread, verifies Dovecot-style password hashes and
 delivers mail for Postfix and Exim (r2d2 deliver).
 .
 The service is not started or enabled on install: configure
 /etc/r2d2/personality/c11n, then run systemctl enable --now r2d2.
CONTROL

mkdir -p "$out"
# gzip: a few seconds less than xz, for a package of 5.6 MB instead of 4.3 MB.
dpkg-deb --root-owner-group -Zgzip -z6 --build "$stage" "$deb" >/dev/null
echo "$deb"
