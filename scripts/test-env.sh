#!/usr/bin/env bash
# What the test suite needs on a machine with only Node and apt: the Debian packages the tests
# drive (POP3 clients, MariaDB, Postfix, rsyslog, fail2ban, Dovecot's tools, hash makers) and a
# MariaDB answering on 127.0.0.1:3306 (root, empty password). `npm test` runs it first; it does
# nothing when all is there. Packages are installed without starting their system services: the
# tests start their own, privately, on loopback ports.
set -euo pipefail

# One package per line, grouped by what needs it (merges stay easy).
packages=(
  curl openssl python3 apache2-utils whois python3-passlib wabt   # clients, hash makers, the encoder's wat2wasm
  mariadb-server mariadb-client                                    # accounts
  fetchmail mpop getmail6                                          # the client matrix
  rsyslog fail2ban postfix dovecot-core                            # logs, delivery, doveadm pw
  haproxy nginx libnginx-mod-mail                                  # PROXY protocol and auth_http, in front of r2d2
  prometheus                                                       # metrics: a real Prometheus scrapes r2d2 (promtool too)
  adduser                                                          # the Debian package's postinst makes its user with it (integration/package-deb)
  swaks                                                            # LMTP protocol cases
  galera-4 galera-arbitrator-4 rsync iproute2 util-linux           # the lab: Galera with garbd, its state transfer, namespaces, unshare
  dovecot-pop3d libidn12                                           # import-uidls: Dovecot serving before the move; Courier's unpacked pop3d needs libidn12
)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if [ ${#missing[@]} -gt 0 ]; then
  echo "test-env: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # The tests run Postfix from a private config; the system one stays unconfigured.
  echo "postfix postfix/main_mailer_type select No configuration" | as_root debconf-set-selections
  # No system service starts on install (policy-rc.d 101): the tests start their own.
  added_policy=no
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
    as_root chmod 755 /usr/sbin/policy-rc.d
    added_policy=yes
  fi
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [ "$added_policy" = yes ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
fi

# Courier's pop3d, unpacked privately (it conflicts with dovecot-pop3d): for the import-uidls tests.
bash "$(dirname "$0")/fetch-courier.sh" >/dev/null

# MariaDB on 127.0.0.1:3306 (root, empty password): start it if it does not answer.
ping_db() { mariadb-admin --protocol=tcp -h127.0.0.1 -uroot ping >/dev/null 2>&1; }
if ! ping_db; then
  as_root mkdir -p /run/mysqld
  as_root chown mysql:mysql /run/mysqld 2>/dev/null || true
  as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql 2>/dev/null \
    || as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  for _ in $(seq 1 60); do
    ping_db && break
    sleep 1
  done
fi
mariadb-admin --protocol=tcp -h127.0.0.1 -uroot ping >/dev/null
