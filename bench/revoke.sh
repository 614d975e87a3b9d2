#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench/revoke.sh - what revocation costs a pam_nkhsm login (issue 12): the
# same authentication of root with and without a CRL of 10,000 entries and a
# KRL of 10,000 keys, in callgrind instructions (every process: pamtester
# and the helper) and PKCS#11 calls (libnkfault's log). Goal: under 5% more
# instructions, and no extra token round trip.
#
# Authorized-key mode: authfile= alone, then with krl= (10,000 explicit
# keys; 10,000 SHA-256 hashes). ca= mode (a software CA, its certificate
# for the token key stored with nkhsm-tool import): ca= alone, then with
# crl= (10,000 entries, PEM and DER), then crl= and krl= together.
# Reported, not asserted: the exit status is non-zero only when the bench
# cannot be set up or an authentication fails.
set -eu
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
: "${SOFTHSM_MODULE:=/usr/lib/softhsm/libsofthsm2.so}"
TOOL="$top_builddir/tools/nkhsm-tool"
PAM_MOD="$top_builddir/pam_nkhsm/.libs/pam_nkhsm.so"
HELPER="$top_builddir/pam_nkhsm/nkhsm-pam-helper"
FAULT="$top_builddir/tests/p11mod/.libs/libnkfault.so"
REVGEN="$top_srcdir/bench/revgen.py"
PIN=123456
N=10000

die() { echo "bench/revoke.sh: $*" >&2; exit 1; }
for need in valgrind softhsm2-util pamtester openssl python3; do
	command -v $need >/dev/null || die "$need is missing"
done
[ "$(id -u)" -eq 0 ] || die "needs root (the PAM user is root, so no user is created)"
for f in "$SOFTHSM_MODULE" "$PAM_MOD" "$HELPER" "$FAULT"; do
	[ -f "$f" ] || die "$f is missing (make bench builds it)"
done
[ "$(head -c 4 "$HELPER" | od -An -c | tr -d ' ')" = '177ELF' ] || die "$HELPER is not an ELF binary"
PAM_WRAPPER_LIB=/usr/lib/x86_64-linux-gnu/libpam_wrapper.so
[ -f "$PAM_WRAPPER_LIB" ] || PAM_WRAPPER_LIB=$(ldconfig -p | awk '/libpam_wrapper.so /{print $NF; exit}')
[ -n "$PAM_WRAPPER_LIB" ] && [ -f "$PAM_WRAPPER_LIB" ] || die "pam_wrapper is missing"

T=$(mktemp -d "${TMPDIR:-/tmp}/nkhsm-revbench.XXXXXX")
pwrap_sweep() {	# the /tmp/pam.X copies valgrind's launcher leaks (see pam.sh)
	for d in /tmp/pam.?; do
		[ -f "$d/rev-keys" ] && [ -f "$d/pid" ] || continue
		p=$(cat "$d/pid" 2>/dev/null) || continue
		case $p in '' | *[!0-9]*) continue ;; esac
		kill -0 "$p" 2>/dev/null || rm -rf "$d"
	done
}
trap 'pwrap_sweep; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
mkdir "$T/tokens" "$T/pam.d" "$T/run" "$T/ca"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" > "$T/softhsm2.conf"
export SOFTHSM2_CONF="$T/softhsm2.conf"
export NKFAULT_MODULE="$SOFTHSM_MODULE"
: > "$T/empty.conf"; chmod 600 "$T/empty.conf"
export BENCH_PIN=$PIN
nk() { "$TOOL" --config "$T/empty.conf" --module "$SOFTHSM_MODULE" "$@"; }
PS="--pin-source env:BENCH_PIN"

softhsm2-util --init-token --free --label bench --so-pin 0123456789abcdef --pin $PIN >/dev/null ||
    die "softhsm2-util --init-token failed"
nk keygen $PS --curve p256 --label login --id 01 >/dev/null || die "keygen failed"
nk pubkey 'pkcs11:token=bench;id=%01' > "$T/authorized_keys"
chmod 600 "$T/authorized_keys"
nk pubkey --format pem -o "$T/login.pub.pem" 'pkcs11:token=bench;id=%01'

# A software CA, a client certificate for the token key (CN=root), on the token.
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/ca/key" -out "$T/ca.pem" -subj "/CN=bench ca" -days 30 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    2>/dev/null || die "CA failed"
chmod 644 "$T/ca.pem"
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' > "$T/leaf.ext"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/d.key" \
    -subj /CN=root -out "$T/d.csr" 2>/dev/null
openssl x509 -req -in "$T/d.csr" -CA "$T/ca.pem" -CAkey "$T/ca/key" \
    -force_pubkey "$T/login.pub.pem" -days 5 -set_serial 4242 -extfile "$T/leaf.ext" \
    -out "$T/login.crt" 2>/dev/null || die "certificate failed"
nk import $PS --cert "$T/login.crt" 'pkcs11:token=bench;id=%01' 2>/dev/null || die "import failed"

# The lists: a CRL of N entries (not the user's), KRLs of N keys.
python3 "$REVGEN" index $N "$T/ca/index.txt"
printf '[ca]\ndefault_ca = c\n[c]\ndatabase = %s/ca/index.txt\ndefault_md = sha256\n[v2]\nauthorityKeyIdentifier = keyid:always\n' \
    "$T" > "$T/ca/cnf"
openssl ca -batch -config "$T/ca/cnf" -gencrl -keyfile "$T/ca/key" -cert "$T/ca.pem" \
    -crldays 7 -crlexts v2 -out "$T/crl.pem" 2>/dev/null || die "gencrl failed"
openssl crl -in "$T/crl.pem" -outform DER -out "$T/crl.der"
python3 "$REVGEN" krl-keys $N "$T/keys.krl"
python3 "$REVGEN" krl-sha256 $N "$T/sha256.krl"
chmod 644 "$T/crl.pem" "$T/crl.der" "$T/keys.krl" "$T/sha256.krl"
sleep 2	# pam_nkhsm caches a CRL file read 2 s or more after its last change
for k in keys sha256; do
	ssh-keygen -Q -f "$T/$k.krl" "$T/authorized_keys" >/dev/null 2>&1 ||
	    die "ssh-keygen -Q refuses $k.krl, or it revokes the user's key"
done

echo "auth required pam_deny.so" > "$T/pam.d/other"
KEYS="authfile=$T/authorized_keys"
CA="ca=$T/ca.pem"
# A CRL configuration is measured twice: cold, the first login after a new
# CRL (parsed in full, its signature verified), and warm, a later login
# (pam_nkhsm's cache of verified CRLs in RUNDIR/crl).
CONFIGS="keys keys-krl keys-krl256 ca ca-crl ca-crl.warm ca-crlder ca-crlder.warm
    ca-crl-krl ca-crl-krl.warm"
opts() {
	case ${1%.warm} in
	keys) echo "$KEYS" ;;
	keys-krl) echo "$KEYS krl=$T/keys.krl" ;;
	keys-krl256) echo "$KEYS krl=$T/sha256.krl" ;;
	ca) echo "$CA" ;;
	ca-crl) echo "$CA crl=$T/crl.pem" ;;
	ca-crlder) echo "$CA crl=$T/crl.der" ;;
	ca-crl-krl) echo "$CA crl=$T/crl.pem krl=$T/keys.krl" ;;
	esac
}
describe() {
	case $1 in
	keys) echo "authorized key" ;;
	keys-krl) echo "  + krl= $N keys" ;;
	keys-krl256) echo "  + krl= $N SHA-256" ;;
	ca) echo "ca= certificate" ;;
	ca-crl) echo "  + crl= $N (PEM), cold" ;;
	ca-crl.warm) echo "  + crl= $N (PEM), warm" ;;
	ca-crlder) echo "  + crl= $N (DER), cold" ;;
	ca-crlder.warm) echo "  + crl= $N (DER), warm" ;;
	ca-crl-krl) echo "  + crl= + krl=, cold" ;;
	ca-crl-krl.warm) echo "  + crl= + krl=, warm" ;;
	esac
}
for c in $(echo $CONFIGS | tr ' ' '\n' | grep -v '\.warm$'); do
	for m in direct fault; do
		case $m in direct) mod=$SOFTHSM_MODULE ;; fault) mod=$FAULT ;; esac
		echo "auth required $PAM_MOD module=$mod helper=$HELPER conf=$T/empty.conf rundir=$T/run $(opts $c)" \
		    > "$T/pam.d/rev-$c-$m"
	done
done

# auth CONFIG MODE [VAR=VALUE...]: one authentication of root, under ${VG:-}.
auth() {
	svc=rev-${1%.warm}-$2
	shift 2
	printf '%s\n' $PIN | env "$@" LD_PRELOAD="$PAM_WRAPPER_LIB" PAM_WRAPPER=1 \
	    PAM_WRAPPER_SERVICE_DIR="$T/pam.d" PAM_WRAPPER_DISABLE_DEEPBIND=1 \
	    ${VG:-} pamtester -v "$svc" root authenticate > "$T/out" 2>&1 &&
	    grep -q 'pamtester: successfully authenticated' "$T/out"
}
calls() {
	rm -f "$T/log.$1"
	auth "$1" fault NKFAULT_LOG="$T/log.$1" || { cp "$T/out" "$T/failed.$1"; echo failed; return; }
	wc -l < "$T/log.$1" | tr -d ' '
}
insns() {
	rm -f "$T"/cg.*
	case $1 in *.warm) ;; *) rm -rf "$T/run/crl" ;; esac
	VG="valgrind --tool=callgrind --trace-children=yes --callgrind-out-file=$T/cg.%p" \
	    auth "$1" direct || { cp "$T/out" "$T/failed.$1"; pwrap_sweep; echo failed; return; }
	pwrap_sweep
	cat "$T"/cg.* | awk '/^summary:/ { s += $2 } END { print s }'
}
failed=
for c in $CONFIGS; do
	v=$(echo $c | tr - . | tr . _)
	eval "c_$v=\$(calls $c)"
	eval "i_$v=\$(insns $c)"
	eval "x=\$c_$v\$i_$v"
	case $x in *failed*) failed="$failed $c" ;; esac
done

echo "== revocation in a PAM login (SoftHSM $(softhsm2-util --version), P-256)"
echo "   CRL: $(stat -c %s "$T/crl.pem") bytes PEM, $(stat -c %s "$T/crl.der") DER, $N entries;" \
    "KRL: $(stat -c %s "$T/keys.krl") bytes ($N keys), $(stat -c %s "$T/sha256.krl") ($N SHA-256)"
echo "   insns: callgrind instructions, every process (pamtester + helper) on SoftHSM"
printf '%-28s %6s %14s %12s %8s\n' configuration calls insns "+insns" "+%"
for c in $CONFIGS; do
	v=$(echo $c | tr - . | tr . _)
	case $c in keys*) b=$i_keys ;; *) b=$i_ca ;; esac
	eval "cc=\$c_$v ii=\$i_$v"
	case "$ii$b" in
	*failed*) d=- p=- ;;
	*) d=$((ii - b)); p=$(awk -v a="$ii" -v b="$b" 'BEGIN { printf "%+.2f", 100 * (a - b) / b }') ;;
	esac
	printf '%-28s %6s %14s %12s %8s\n' "$(describe $c)" "$cc" "$ii" "$d" "$p"
done
[ -z "$failed" ] || {
	for c in $failed; do
		echo "--- $c:"
		grep -v '^PWRAP_DEBUG' "$T/failed.$c" 2>/dev/null | tail -5
	done
	die "authentication failed:$failed"
}
