#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# test-packages.sh - build the Debian packages from a clean copy of this
# checkout, check them with lintian, install them with apt-get, and test the
# installed system with the installed files only: PAM logins through the
# installed module and helper, the pam-auth-update profile in the stack it
# generates, nkhsm-tool, nkhsm-sshca and nkhsm-hotplug with their installed
# defaults. Then purge every package and check that no file is left behind
# and that PAM still works.
#
# Run as root on Debian 12 (CI runs it from .ci/run after tools/test.sh).
# It changes the machine while it runs (packages, /etc/nkhsm, the common-*
# PAM files, a throwaway user) and puts everything back, also on failure; it
# refuses to start on a machine where nkhsm is already installed or
# configured. Each phase prints its time.
set -u
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
export DEBIAN_FRONTEND=noninteractive
PKGS="libnkhsm0 libnkhsm-dev libpam-nkhsm nkhsm-tools nkhsm-sshca nkhsm-hotplug"
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
SECDIR=/usr/lib/$MA/security
SOFTHSM=/usr/lib/softhsm/libsofthsm2.so
PAM_WRAPPER_LIB=/usr/lib/$MA/libpam_wrapper.so
# What the installed programs run with: system paths only, nothing of the
# checkout or of a build tree.
SYSPATH=/usr/sbin:/usr/bin:/sbin:/bin

die() { echo "test-packages: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (it installs packages)"
for c in dpkg-buildpackage lintian apt-get pam-auth-update pamtester softhsm2-util \
    ssh-keygen openssl useradd; do
	command -v "$c" >/dev/null 2>&1 || die "$c is missing (tools/install-deps.sh)"
done
[ -f "$PAM_WRAPPER_LIB" ] && [ -f "$SOFTHSM" ] || die "pam_wrapper or SoftHSM is missing"
for p in $PKGS; do
	case $(dpkg-query -W -f '${Status}' "$p" 2>/dev/null) in
	'' | *' not-installed') ;;
	*) die "$p is on this machine already: this test needs one without nkhsm" ;;
	esac
done
for d in /etc/nkhsm /var/lib/nkhsm-sshca /usr/share/pam-configs/nkhsm; do
	[ -e "$d" ] && die "$d exists already: this test needs a machine without nkhsm"
done
grep -q '^# here are the per-package modules' /etc/pam.d/common-auth ||
    die "/etc/pam.d/common-auth is not managed by pam-auth-update"

T=$(mktemp -d /tmp/nkhsm-pkgtest.XXXXXX)
chmod 755 "$T"
. "$top/tests/integration/assert.sh"
USERS=
RUN_CREATED=0
[ -e /run/nkhsm ] || RUN_CREATED=1

# --- putting the machine back -------------------------------------------------

# What the machine looked like: files under the directories packages and
# their scripts write to (dpkg's and apt's own state aside), the PAM
# configuration, pam-auth-update's debconf answer, the installed packages.
snapshot() {
	find /etc /usr /var/lib /opt -xdev \
	    \( -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/lib/ucf \
	       -o -path /etc/ld.so.cache \) -prune -o -print 2>/dev/null | sort > "$1.files"
	rm -rf "$1.pam"
	mkdir -p "$1.pam"
	cp -a /etc/pam.d "$1.pam/pam.d"
	cp -a /var/lib/pam "$1.pam/var-lib-pam"
	echo 'get libpam-runtime/profiles' | debconf-communicate 2>/dev/null > "$1.debconf"
	dpkg-query -W -f '${Package} ${Status}\n' | grep ' installed$' | sort > "$1.pkgs"
}

restore() {
	trap - EXIT INT TERM
	set +e
	# shellcheck disable=SC2086
	if dpkg-query -W -f '${Status}\n' $PKGS 2>/dev/null | grep -q ' installed$'; then
		echo "test-packages: purging the packages"
		dpkg --purge $PKGS >/dev/null 2>&1
	fi
	# Packages apt pulled in for ours (none on a machine set up by
	# tools/install-deps.sh).
	if [ -f "$T/before.pkgs" ]; then
		extra=$(dpkg-query -W -f '${Package} ${Status}\n' | grep ' installed$' | sort |
		    comm -13 "$T/before.pkgs" - | cut -d' ' -f1)
		[ -z "$extra" ] || apt-get purge -y -qq $extra >/dev/null 2>&1
	fi
	if [ -d "$T/before.pam" ] &&
	    ! diff -r "$T/before.pam/pam.d" /etc/pam.d >/dev/null 2>&1; then
		echo "test-packages: restoring /etc/pam.d and /var/lib/pam"
		cp -a "$T/before.pam/pam.d/." /etc/pam.d/
		cp -a "$T/before.pam/var-lib-pam/." /var/lib/pam/
	fi
	if [ -s "$T/before.debconf" ]; then
		now=$(echo 'get libpam-runtime/profiles' | debconf-communicate 2>/dev/null)
		[ "$now" = "$(cat "$T/before.debconf")" ] ||
		    echo "set libpam-runtime/profiles $(sed 's/^0 //' "$T/before.debconf")" |
		    debconf-communicate >/dev/null 2>&1
	fi
	for u in $USERS; do userdel "$u" 2>/dev/null; done
	rm -rf /etc/nkhsm /var/lib/nkhsm-sshca
	[ "$RUN_CREATED" -eq 0 ] || rm -rf /run/nkhsm
	rm -rf "$T"
}
trap restore EXIT
trap 'exit 99' INT TERM

t_start=0
begin() { echo "==== $1"; t_start=$(date +%s); }
end() { echo "==== $1: $(( $(date +%s) - t_start ))s"; }
t_all=$(date +%s)

snapshot "$T/before"

# --- 1. build from a clean copy -------------------------------------------------

# The tracked files and the untracked ones git does not ignore: a clean
# checkout of the tree as it is, without ./build or generated files.
begin "build the packages (dpkg-buildpackage -us -uc -b, make check included)"
mkdir -p "$T/src/nkhsm"
git ls-files -z --cached --others --exclude-standard > "$T/files" ||
    die "git ls-files failed: a git checkout is needed"
tar --null -T "$T/files" -cf - | tar -xf - -C "$T/src/nkhsm" || die "cannot copy the tree"
# The source package too, for lintian (the build itself is binary-only).
(cd "$T/src" && dpkg-source -b nkhsm) > "$T/source.log" 2>&1 ||
    { cat "$T/source.log"; die "dpkg-source -b failed"; }
# Without SCHSM_EMU: the card tests, which tools/test.sh ran on these
# sources just before, skip in the package build (debian/README.source).
if (cd "$T/src/nkhsm" && unset SCHSM_EMU &&
    DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }parallel=$(nproc 2>/dev/null || echo 2)" \
    dpkg-buildpackage -us -uc -b) > "$T/build.log" 2>&1; then
	pass "dpkg-buildpackage -us -uc -b from a clean copy"
	grep -A40 '^make check at build time' "$T/build.log" | grep '^make check\|^  skipped'
else
	fail "dpkg-buildpackage failed"
	tail -60 "$T/build.log"
	finish
fi
grep -q '^make check at build time: [1-9][0-9]* passed, [0-9]* skipped, 0 failed' \
    "$T/build.log" && pass "the build ran the test suite" ||
    fail "the build did not run the test suite (no summary in the log)"
# Every exported symbol is in debian/libnkhsm0.symbols, none is missing.
if grep -q 'dpkg-gensymbols: warning' "$T/build.log"; then
	fail "libnkhsm's symbols differ from debian/libnkhsm0.symbols (debian/README.source):"
	sed -n '/^dpkg-gensymbols: warning/,/^ *dh_/p' "$T/build.log" | grep '^[-+@]' | head -20
else
	pass "libnkhsm.so.0 exports exactly debian/libnkhsm0.symbols"
fi
end "build"

begin "lintian"
lintian --fail-on error,warning --display-info "$T"/src/nkhsm_*.dsc "$T"/src/nkhsm_*.changes \
    > "$T/lintian.out" 2>&1
rc=$?
grep -v 'running with root privileges' "$T/lintian.out"
[ $rc -eq 0 ] && pass "lintian, source and binary packages: no error, no warning" ||
    fail "lintian reports errors or warnings (exit $rc)"
end "lintian"

# --- 2. install; no build tree left anywhere ------------------------------------------

begin "apt-get install"
debs=
for p in $PKGS; do
	debs="$debs $(ls "$T"/src/${p}_*.deb)"
done
# shellcheck disable=SC2086
if apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends $debs > "$T/apt.out" 2>&1; then
	pass "apt-get install ./...deb of the six packages"
else
	fail "apt-get install failed"
	tail -20 "$T/apt.out"
	finish
fi
rm -rf "$T/src"
cd /
for f in /usr/bin/nkhsm-tool /usr/bin/nkhsm-sshca /usr/sbin/nkhsm-hotplug \
    /usr/libexec/nkhsm/nkhsm-pam-helper "$SECDIR/pam_nkhsm.so" \
    /usr/lib/$MA/libnkhsm.so.0; do
	if [ ! -f "$f" ]; then
		fail "$f is not installed"
	elif readelf -d "$f" | grep -q 'RPATH\|RUNPATH'; then
		fail "$f has a run path: $(readelf -d "$f" | grep 'RPATH\|RUNPATH')"
	else
		pass "$f installed, no run path"
	fi
done
# The programs link libnkhsm's core statically (they use its internals);
# the shared library is for other programs, built with libnkhsm-dev alone.
cat > "$T/use.c" <<'EOC'
#include <stdio.h>
#include <string.h>
#include <nkhsm.h>
int main(void) { puts(nkhsm_version()); return strlen(nkhsm_strerror(-1)) == 0; }
EOC
if cc -o "$T/use" "$T/use.c" $(pkg-config --cflags --libs nkhsm) > "$T/use.out" 2>&1; then
	lib=$(env -i ldd "$T/use" | sed -n 's/^[[:space:]]*libnkhsm\.so\.0 => \([^ ]*\) .*/\1/p')
	[ -n "$lib" ] && [ "$(readlink -f "$lib")" = "$(readlink -f "/usr/lib/$MA/libnkhsm.so.0")" ] &&
	    [ "$(env -i "$T/use")" = "$(dpkg-query -W -f '${Version}' libnkhsm0)" ] &&
	    pass "a program built with libnkhsm-dev (pkg-config nkhsm) runs on the installed libnkhsm.so.0" ||
	    fail "a program built with libnkhsm-dev loads '$lib' and says '$(env -i "$T/use" 2>&1)'"
else
	fail "a program does not build with libnkhsm-dev: $(head -5 "$T/use.out")"
fi
cmp -s "$T/before.pam/pam.d/common-auth" /etc/pam.d/common-auth &&
    pass "installing changes no PAM stack (the profile is Default: no)" ||
    fail "installing changed /etc/pam.d/common-auth"
end "install"

# --- 3. the installed programs ------------------------------------------------------

begin "installed programs"
# Installed programs only, in a bare environment; the token is SoftHSM's,
# named in the installed /etc/nkhsm/nkhsm.conf.
mkdir "$T/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$T" > "$T/softhsm2.conf"
R="env -i PATH=$SYSPATH LANG=C.UTF-8 SOFTHSM2_CONF=$T/softhsm2.conf"
PIN=648219
$R softhsm2-util --init-token --free --label nkpkg --so-pin 0123456789abcdef \
    --pin "$PIN" >/dev/null || die "softhsm2-util --init-token failed"

version=$(sed -n 's/^AC_INIT(\[nkhsm\], *\[\([^]]*\)\].*/\1/p' "$top/configure.ac")
for p in $PKGS; do
	v=$(dpkg-query -W -f '${Version}' "$p")
	[ "$v" = "$version" ] && pass "$p $v is configure.ac's version" ||
	    fail "$p is version $v, configure.ac says $version"
done
# The version test, on the installed programs.
if $R top_srcdir="$top" NKHSM_VERSION_PROGRAMS="nkhsm-tool=/usr/bin/nkhsm-tool
nkhsm-sshca=/usr/bin/nkhsm-sshca nkhsm-hotplug=/usr/sbin/nkhsm-hotplug
nkhsm-pam-helper=/usr/libexec/nkhsm/nkhsm-pam-helper" \
    sh "$top/tests/integration/version.sh" > "$T/version.out" 2>&1; then
	pass "--version of the installed programs (tests/integration/version.sh)"
else
	fail "--version of the installed programs"
	grep FAIL "$T/version.out"
fi

# The shipped configuration files say nothing: the built-in defaults.
expect_exit 0 "nkhsm-hotplug --check-config with the installed /etc/nkhsm/hotplug.conf" \
    $R nkhsm-hotplug --check-config
grep -q 'on_remove lock-token, serial_match absent' "$T/out" &&
    pass "the shipped hotplug.conf means the defaults" ||
    fail "nkhsm-hotplug --check-config: $(head -3 "$T/out")"
expect_exit 0 "nkhsm-tool -v list with the shipped nkhsm.conf" $R nkhsm-tool -v list
grep -q "(module /usr/lib/$MA/opensc-pkcs11.so)" "$T/out" "$T/err" &&
    pass "the shipped nkhsm.conf means the default module, OpenSC's" ||
    fail "nkhsm-tool -v list: $(cat "$T/out" "$T/err" | head -2)"

# Name SoftHSM in the installed nkhsm.conf, as an administrator would.
cp /etc/nkhsm/nkhsm.conf "$T/nkhsm.conf.shipped"
printf 'module = %s\ntoken = pkcs11:token=nkpkg\n' "$SOFTHSM" >> /etc/nkhsm/nkhsm.conf
expect_exit 0 "nkhsm-tool list (module and token from /etc/nkhsm/nkhsm.conf)" \
    $R nkhsm-tool list
grep -q nkpkg "$T/out" && pass "nkhsm-tool list shows the token" ||
    fail "nkhsm-tool list does not show the token: $(head -3 "$T/out")"
expect_exit 0 "nkhsm-tool keygen" $R NK_PIN="$PIN" nkhsm-tool keygen --curve p256 \
    --label login --pin-source env:NK_PIN
expect_exit 0 "nkhsm-tool pubkey" $R nkhsm-tool pubkey 'pkcs11:object=login'
cp "$T/out" "$T/login.pub"
ssh-keygen -l -f "$T/login.pub" >/dev/null 2>&1 && pass "ssh-keygen reads the public key" ||
    fail "ssh-keygen cannot read nkhsm-tool pubkey's output"

# nkhsm-sshca with its default state directory, /var/lib/nkhsm-sshca.
expect_exit 0 "nkhsm-sshca init (default state, module from nkhsm.conf)" \
    $R NK_PIN="$PIN" nkhsm-sshca --pin-source env:NK_PIN init
[ -d /var/lib/nkhsm-sshca ] && pass "the CA lives in /var/lib/nkhsm-sshca" ||
    fail "no /var/lib/nkhsm-sshca after init"
ssh-keygen -q -t ed25519 -N '' -C alice -f "$T/alice" >/dev/null
expect_exit 0 "nkhsm-sshca sign" $R NK_PIN="$PIN" nkhsm-sshca --pin-source env:NK_PIN \
    sign --user -I alice -n alice -V +1h "$T/alice.pub"
if ssh-keygen -L -f "$T/alice-cert.pub" > "$T/cert.txt" 2>&1 &&
    grep -q 'Key ID: "alice"' "$T/cert.txt"; then
	pass "ssh-keygen -L reads the certificate"
else
	fail "no valid certificate: $(head -3 "$T/cert.txt")"
fi
$R nkhsm-sshca ca-pubkey > "$T/ca.pub" 2>/dev/null
cafp=$(ssh-keygen -l -f "$T/ca.pub" 2>/dev/null | cut -d' ' -f2)
if [ -n "$cafp" ] && grep -q "Signing CA: .* $cafp " "$T/cert.txt"; then
	pass "the certificate is signed by nkhsm-sshca ca-pubkey's key"
else
	fail "the certificate's signing CA is not '$cafp'"
fi
# The ledger is the CA's data: no package script touches it, so the test
# removes what it made itself.
rm -rf /var/lib/nkhsm-sshca
end "installed programs"

# --- 4. PAM through the installed module ----------------------------------------------------

begin "PAM"
PAMD="$T/pam.d"
mkdir -p "$PAMD"
echo "auth required pam_deny.so" > "$PAMD/other"
# newuser NAME PASSWORD: a throwaway user with a password and a home of its own.
newuser() {
	useradd -M -d "$T/home-$1" -s /usr/sbin/nologin -p "$(openssl passwd -6 "$2")" "$1" ||
	    die "useradd $1 failed"
	USERS="$USERS $1"
	mkdir -p "$T/home-$1/.config/nkhsm"
	chown -R "$1" "$T/home-$1"
	chmod 700 "$T/home-$1"
}
U=nkp$(od -An -N3 -tx1 /dev/urandom | tr -d ' ')
NOTOK=${U}n
newuser "$U" upw-7Kq
newuser "$NOTOK" npw-3Zr
install -o "$U" -m 600 "$T/login.pub" "$T/home-$U/.config/nkhsm/authorized_keys"

# pam SERVICE USER OP INPUT: pamtester through pam_wrapper, LD_PRELOAD on
# this one command only. Output in $T/pam.out, exit code in $pam_rc.
pam() {
	printf '%b' "$4" | $R LD_PRELOAD="$PAM_WRAPPER_LIB" PAM_WRAPPER=1 \
	    PAM_WRAPPER_SERVICE_DIR="$PAMD" PAM_WRAPPER_DEBUGLEVEL=2 \
	    pamtester -v "$1" "$2" $3 > "$T/pam.out" 2>&1
	pam_rc=$?
}
# logged MESSAGE: pam_nkhsm logged this decision in the last run (its
# pam_syslog lines reach pam_wrapper's output), so the case tested the
# outcome it names.
logged() {
	if grep 'SYSLOG' "$T/pam.out" | grep -qF -- "$1"; then
		pass "... pam_nkhsm logged '$1'"
	else
		fail "... pam_nkhsm did not log '$1'"
		grep 'SYSLOG' "$T/pam.out" | tail -3 | sed 's/^/  | /'
	fi
}
# expect_login RC SERVICE USER INPUT DESCRIPTION
expect_login() {
	pam "$2" "$3" authenticate "$4"
	if [ "$pam_rc" -eq "$1" ]; then
		pass "$5"
	else
		fail "$5: pamtester exit $pam_rc"
		grep -v '^PWRAP_DEBUG' "$T/pam.out" | tail -4 | sed 's/^/  | /'
	fi
}

# The installed module with nothing but its defaults: the helper at its
# built-in path, the module and token from /etc/nkhsm/nkhsm.conf.
printf 'auth required %s/pam_nkhsm.so\naccount required pam_permit.so\n' "$SECDIR" \
    > "$PAMD/nkdefault"
expect_login 0 nkdefault "$U" "$PIN\n" "installed pam_nkhsm.so: good PIN logs in"
grep -q "PIN for token 'nkpkg'" "$T/pam.out" && pass "the PIN prompt names the token" ||
    fail "no PIN prompt: $(grep -v PWRAP_DEBUG "$T/pam.out" | head -3)"
expect_login 1 nkdefault "$U" "000000\n" "installed pam_nkhsm.so: wrong PIN refused"
grep -q 'Authentication failure' "$T/pam.out" && pass "wrong PIN: PAM_AUTH_ERR" ||
    fail "wrong PIN: not PAM_AUTH_ERR"
# That was the installed helper: made unsafe, the module refuses to run it.
chmod g+w /usr/libexec/nkhsm/nkhsm-pam-helper
expect_login 1 nkdefault "$U" "$PIN\n" "a group-writable installed helper is refused"
chmod g-w /usr/libexec/nkhsm/nkhsm-pam-helper
grep 'SYSLOG' "$T/pam.out" | grep -qF 'refusing the token helper: /usr/libexec/nkhsm/nkhsm-pam-helper' &&
    pass "so the module runs /usr/libexec/nkhsm/nkhsm-pam-helper by default" ||
    fail "the default helper is not the installed one"
end "PAM"

# --- 5. the pam-auth-update profile ---------------------------------------------------

begin "pam-auth-update --enable nkhsm"
if pam-auth-update --enable nkhsm > "$T/pau.out" 2>&1; then
	pass "pam-auth-update --enable nkhsm"
else
	fail "pam-auth-update --enable nkhsm: $(cat "$T/pau.out")"
fi
grep '^auth' /etc/pam.d/common-auth | sed 's/^/  | /'
nkline=$(grep '^auth.*pam_nkhsm\.so' /etc/pam.d/common-auth)
case $nkline in
*'[success='[0-9]*' default=ignore]'*pam_nkhsm.so*) pass "common-auth: pam_nkhsm with [success=N default=ignore]" ;;
*) fail "common-auth has no '[success=N default=ignore] pam_nkhsm.so' line: '$nkline'" ;;
esac
[ "$(grep -n '^auth' /etc/pam.d/common-auth | grep -m1 'pam_nkhsm\|pam_unix' | grep -c pam_nkhsm)" = 1 ] &&
    pass "common-auth: the token comes before the password" ||
    fail "common-auth: pam_unix comes before pam_nkhsm"
grep -q '^session.*optional.*pam_nkhsm\.so' /etc/pam.d/common-session &&
    pass "common-session: session optional pam_nkhsm.so" || fail "common-session has no pam_nkhsm"
grep -q pam_nkhsm /etc/pam.d/common-password && fail "common-password names pam_nkhsm" ||
    pass "common-password: no pam_nkhsm (no PIN change for whoever's token is plugged in)"

# The generated stacks as one service, module names made absolute for
# pam_wrapper (which looks nowhere else).
for f in common-auth common-account common-session; do
	sed "s#\([[:space:]]\)\(pam_[a-z0-9_]*\.so\)#\1$SECDIR/\2#" "/etc/pam.d/$f"
done > "$PAMD/stack"

expect_login 0 stack "$NOTOK" "npw-3Zr\n" "generated stack: a user without a token logs in with the password"
logged "no authorized keys"
expect_login 1 stack "$NOTOK" "wrong\n" "generated stack: ... and not with a wrong one"
expect_login 0 stack "$U" "$PIN\n" "generated stack: a user with a token logs in with the token alone"
logged "authenticated"
grep -q 'Password:' "$T/pam.out" && fail "the token user was asked for a password" ||
    pass "... without being asked for a password"
expect_login 0 stack "$U" "000000\nupw-7Kq\n" "generated stack: after a wrong PIN, the password"
logged "wrong PIN"
expect_login 1 stack "$U" "000000\nwrong\n" "generated stack: wrong PIN and wrong password: refused"
expect_login 1 stack "nkp-no-such-user" "x\nx\n" "generated stack: an unknown user is refused"

# Every way pam_nkhsm can fail for someone without a token falls through to
# the password: each outcome of pam_nkhsm(8)'s table that is reachable here.
#   PAM_IGNORE (nouserok, not enrolled): above.
#   PAM_AUTH_ERR, an unsafe home (group-writable):
chmod 770 "$T/home-$NOTOK"
expect_login 0 stack "$NOTOK" "npw-3Zr\n" "no token, group-writable home (PAM_AUTH_ERR): password works"
logged "refusing authorized keys"
chmod 700 "$T/home-$NOTOK"
#   PAM_AUTHINFO_UNAVAIL, enrolled but the token is not there:
sed -i 's/token=nkpkg/token=elsewhere/' /etc/nkhsm/nkhsm.conf
expect_login 0 stack "$U" "upw-7Kq\n" "token absent (PAM_AUTHINFO_UNAVAIL): password works"
logged "no token"
sed -i 's/token=elsewhere/token=nkpkg/' /etc/nkhsm/nkhsm.conf
#   PAM_AUTHINFO_UNAVAIL, the PKCS#11 module cannot be loaded:
sed -i "s#^module = .*#module = /nonexistent/pkcs11.so#" /etc/nkhsm/nkhsm.conf
expect_login 0 stack "$U" "upw-7Kq\n" "PKCS#11 module missing (PAM_AUTHINFO_UNAVAIL): password works"
logged "the PKCS#11 module is missing: /nonexistent/pkcs11.so"
sed -i "s#^module = .*#module = $SOFTHSM#" /etc/nkhsm/nkhsm.conf
#   PAM_SERVICE_ERR, a broken nkhsm.conf (every user at once):
echo 'modul = typo' >> /etc/nkhsm/nkhsm.conf
expect_login 0 stack "$NOTOK" "npw-3Zr\n" "broken nkhsm.conf (PAM_SERVICE_ERR): password works"
logged "unknown key 'modul'"
expect_login 0 stack "$U" "upw-7Kq\n" "broken nkhsm.conf: the token user too, with the password"
sed -i '/^modul = typo$/d' /etc/nkhsm/nkhsm.conf
chmod g+w /etc/nkhsm/nkhsm.conf
expect_login 0 stack "$NOTOK" "npw-3Zr\n" "group-writable nkhsm.conf (PAM_SERVICE_ERR): password works"
logged "is group-writable"
chmod g-w /etc/nkhsm/nkhsm.conf
#   PAM_AUTH_ERR, an authorized key that no token holds:
ssh-keygen -q -t ecdsa -b 256 -N '' -C other -f "$T/other" >/dev/null
install -o "$U" -m 600 "$T/other.pub" "$T/home-$U/.config/nkhsm/authorized_keys"
expect_login 0 stack "$U" "upw-7Kq\n" "no token holds the key (PAM_AUTH_ERR): password works"
logged "the token holds no authorized key"
install -o "$U" -m 600 "$T/login.pub" "$T/home-$U/.config/nkhsm/authorized_keys"

# A whole session with the generated stacks.
pam stack "$U" "authenticate open_session close_session" "$PIN\n"
[ "$pam_rc" -eq 0 ] && pass "generated stack: token login, session opened and closed" ||
    fail "generated stack: session: pamtester exit $pam_rc"
pam stack "$NOTOK" "authenticate open_session close_session" "npw-3Zr\n"
[ "$pam_rc" -eq 0 ] && pass "generated stack: password login, session opened and closed" ||
    fail "generated stack: password session: pamtester exit $pam_rc"

pam-auth-update --disable nkhsm > "$T/pau.out" 2>&1 ||
    fail "pam-auth-update --disable nkhsm: $(cat "$T/pau.out")"
diff -r "$T/before.pam/pam.d" /etc/pam.d > "$T/pam.diff" 2>&1 &&
    pass "pam-auth-update --disable nkhsm: /etc/pam.d as before" ||
    { fail "/etc/pam.d differs after --disable"; head -20 "$T/pam.diff"; }
end "pam-auth-update"

# --- 6. purge ---------------------------------------------------------------

# With the profile enabled, as an administrator would leave it: the package
# must take pam_nkhsm out of the stacks before its files go.
begin "dpkg --purge"
pam-auth-update --enable nkhsm > "$T/pau.out" 2>&1 && grep -q pam_nkhsm /etc/pam.d/common-auth ||
    fail "pam-auth-update --enable nkhsm (again): $(cat "$T/pau.out")"
cp "$T/nkhsm.conf.shipped" /etc/nkhsm/nkhsm.conf
# shellcheck disable=SC2086
if dpkg --purge $PKGS > "$T/purge.out" 2>&1; then
	pass "dpkg --purge of every package, the profile enabled"
else
	fail "dpkg --purge failed"
	tail -10 "$T/purge.out"
fi
for u in $USERS; do userdel "$u" 2>/dev/null; done
USERS=
[ "$RUN_CREATED" -eq 0 ] || rm -rf /run/nkhsm
snapshot "$T/after"
if cmp -s "$T/before.files" "$T/after.files"; then
	pass "no file left behind, none removed (/etc /usr /var/lib /opt)"
else
	fail "files differ after the purge:"
	diff "$T/before.files" "$T/after.files" | head -20
fi
diff -r "$T/before.pam" "$T/after.pam" > "$T/pam.diff" 2>&1 &&
    pass "/etc/pam.d and /var/lib/pam as before" ||
    { fail "the PAM configuration differs after the purge"; head -20 "$T/pam.diff"; }
cmp -s "$T/before.debconf" "$T/after.debconf" &&
    pass "pam-auth-update's debconf answer as before" ||
    fail "libpam-runtime/profiles: '$(cat "$T/before.debconf")' -> '$(cat "$T/after.debconf")'"
cmp -s "$T/before.pkgs" "$T/after.pkgs" && pass "the installed packages as before" ||
    { fail "installed packages differ"; diff "$T/before.pkgs" "$T/after.pkgs" | head; }
# The machine's own stack still logs a password user in.
newuser "$NOTOK" npw-3Zr
for f in common-auth common-account; do
	sed "s#\([[:space:]]\)\(pam_[a-z0-9_]*\.so\)#\1$SECDIR/\2#" "/etc/pam.d/$f"
done > "$PAMD/system"
expect_login 0 system "$NOTOK" "npw-3Zr\n" "after the purge, the machine's common-auth still logs in"
expect_login 1 system "$NOTOK" "wrong\n" "... and still refuses a wrong password"
end "purge"

echo "test-packages: $(( $(date +%s) - t_all ))s in all"
finish
