#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# install-deps.sh - the Debian 12 / Ubuntu packages nkhsm builds and tests
# with. Run as root (or it uses sudo).
set -eu
pkgs="autoconf automake libtool pkg-config make gcc clang
 libssl-dev libp11-kit-dev libpam0g-dev libpcsclite-dev libudev-dev libsqlite3-dev
 libcmocka-dev softhsm2 opensc openssl openssh-client openssh-server
 libpam-wrapper pamtester mandoc valgrind python3
 umockdev libumockdev-dev python3-dbusmock pcscd libpam-pkcs11 libclang-rt-14-dev
 dbus gir1.2-umockdev-1.0 python3-gi
 vsmartcard-vpcd cmake iproute2 util-linux libengine-pkcs11-openssl
 debhelper dpkg-dev lintian sqlite3 libpq-dev postgresql"
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
	$sudo apt-get update -qq
	# shellcheck disable=SC2086
	$sudo apt-get install -y -qq --no-install-recommends $missing
fi
