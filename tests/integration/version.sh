#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# version.sh - every program answers --version with exactly "NAME VERSION",
# exit 0 and nothing on stderr, where VERSION is the one AC_INIT gives in
# configure.ac (the version of the tarball and of the Debian packages).
# The helper does that one thing by hand and still refuses anything else.
#
# NKHSM_VERSION_PROGRAMS="NAME=PATH ..." checks other copies of the
# programs (tools/test-packages.sh: the installed ones).
set -u
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
T=$(mktemp -d "${TMPDIR:-/tmp}/nkhsm-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
. "$top_srcdir/tests/integration/assert.sh"

version=$(sed -n 's/^AC_INIT(\[nkhsm\], *\[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
if [ -z "$version" ]; then
	fail "no version in $top_srcdir/configure.ac's AC_INIT"
	finish
fi

: "${NKHSM_VERSION_PROGRAMS:=nkhsm-tool=$top_builddir/tools/nkhsm-tool
nkhsm-sshca=$top_builddir/sshca/nkhsm-sshca
nkhsm-hotplug=$top_builddir/udev/nkhsm-hotplug
nkhsm-pam-helper=$top_builddir/pam_nkhsm/nkhsm-pam-helper}"

for np in $NKHSM_VERSION_PROGRAMS; do
	name=${np%%=*} prog=${np#*=}
	expect_exit 0 "$name --version exits 0" "$prog" --version
	if [ "$(cat "$T/out")" = "$name $version" ]; then
		pass "$name --version says '$name $version', as configure.ac"
	else
		fail "$name --version says '$(head -c 200 "$T/out")', wanted '$name $version'"
	fi
	if [ -s "$T/err" ]; then
		fail "$name --version wrote to stderr"
		sed 's/^/  | /' "$T/err" | head -3
	else
		pass "$name --version: nothing on stderr"
	fi
	case $name in
	nkhsm-pam-helper)
		expect_exit 2 "$name refuses any other argument" "$prog" --help
		expect_exit 2 "$name refuses --version with more" "$prog" --version x
		;;
	esac
done
finish
