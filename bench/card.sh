#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench/card.sh - one PAM login on a SmartCard-HSM, in APDUs and wall time:
# pam_nkhsm's direct PC/SC path (driver=auto, the default with OpenSC's
# module) against OpenSC's PKCS#11 path (driver=pkcs11) and against the
# floor, bench/card_floor (SELECT, VERIFY, sign: 3 APDUs), in one run, on
# one emulated card (../shared/schsm-emu) holding the user's P-256 key, a
# P-384 key with its X.509 certificate and a P-521 key; then again with
# 9 more P-256 keys (12 keys).
#
# APDUs come from pcscd's log (-a -d: one "APDU:" line per command). Wall
# time is a median of several runs on a shared machine, so it is reported
# as a ratio against the floor measured in the same run; on this stack each
# round trip costs about 50 ms whatever the command (vpcd and the emulator),
# so time follows the APDUs. The PAM user is root (no user is created), as
# in bench/pam.sh. The exit status is non-zero only when the bench cannot be
# set up or a login that must succeed fails.
set -eu
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
: "${SCHSM_EMU:=$top_srcdir/../shared/schsm-emu/schsm-emu}"
: "${OPENSC_MODULE:=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}"
TOOL="$top_builddir/tools/nkhsm-tool"
PAM_MOD="$top_builddir/pam_nkhsm/.libs/pam_nkhsm.so"
HELPER="$top_builddir/pam_nkhsm/nkhsm-pam-helper"
FLOOR="$top_builddir/bench/card_floor"
PIN=648219
SO_PIN=3537363231383830
RUNS=${NKHSM_BENCH_RUNS:-5}

die() { echo "bench/card.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (the card kit's namespace; the PAM user is root)"
[ -x "$SCHSM_EMU" ] || die "no card kit at $SCHSM_EMU (set SCHSM_EMU)"
for need in pamtester sc-hsm-tool; do
	command -v $need >/dev/null || die "$need is missing"
done
for f in "$OPENSC_MODULE" "$PAM_MOD" "$HELPER" "$FLOOR" "$TOOL"; do
	[ -f "$f" ] || die "$f is missing (make bench builds it)"
done
PAM_WRAPPER_LIB=/usr/lib/x86_64-linux-gnu/libpam_wrapper.so
[ -f "$PAM_WRAPPER_LIB" ] || die "pam_wrapper is missing"

T=$(mktemp -d "${TMPDIR:-/tmp}/nkhsm-cardbench.XXXXXX")
trap '"$SCHSM_EMU" stop "$T/card" >/dev/null 2>&1 || :; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
mkdir -p "$T/card" "$T/pam.d"
# One kit start at a time on this machine, as the card tests do.
(
	flock 9
	SCHSM_EMU_PCSCD_ARGS="-a -d" "$SCHSM_EMU" start "$T/card" >"$T/start.out" 2>&1
) 9>"${TMPDIR:-/tmp}/nkhsm-schsm-emu.lock" || { tail -5 "$T/start.out" >&2; die "the card kit did not start"; }
renice -n 19 -p "$(cat "$T/card/card.pid")" >/dev/null 2>&1 || :
eval "$("$SCHSM_EMU" env "$T/card")"
export PCSCLITE_CSOCK_NAME
printf 'app default {\n\tframework pkcs15 {\n\t\tuse_file_caching = no;\n\t}\n}\n' > "$T/opensc.conf"
export OPENSC_CONF="$T/opensc.conf"
sc-hsm-tool --initialize --so-pin $SO_PIN --pin $PIN > /dev/null 2>&1 || die "cannot initialize the card"
: > "$T/empty.conf"; chmod 600 "$T/empty.conf"
export BENCH_PIN=$PIN
nkc() { "$TOOL" --config "$T/empty.conf" --module "$OPENSC_MODULE" "$@"; }
nkc keygen --curve p256 --label login --id 01 --pin-source env:BENCH_PIN > "$T/kg" || die "keygen failed"
sed -n 's/^ *ssh: *//p' "$T/kg" > "$T/authorized_keys"
chmod 600 "$T/authorized_keys"
nkc keygen --curve p384 --label k2 --id 02 --pin-source env:BENCH_PIN > /dev/null || die "keygen failed"
nkc selfsign --subject CN=k2 --days 30 --store --pin-source env:BENCH_PIN \
    -o "$T/k2.pem" 'pkcs11:object=k2' > /dev/null || die "selfsign --store failed"
nkc keygen --curve p521 --label k3 --id 03 --pin-source env:BENCH_PIN > /dev/null || die "keygen failed"

echo "auth required pam_deny.so" > "$T/pam.d/other"
for d in auto pkcs11; do
	echo "auth required $PAM_MOD module=$OPENSC_MODULE helper=$HELPER conf=$T/empty.conf" \
	    "rundir=$T/run cachedir=$T/cache authfile=$T/authorized_keys driver=$d" > "$T/pam.d/nk-$d"
done

apdus() { grep -c 'APDU:' "$T/card/pcscd.log" || :; }
# run WHAT: one login (or floor run); 0 if it worked.
run() {
	case $1 in
	floor) head -c 64 /dev/urandom | "$FLOOR" 01 $PIN ;;
	*)
		printf '%s\n' $PIN | LD_PRELOAD="$PAM_WRAPPER_LIB" PAM_WRAPPER=1 \
		    PAM_WRAPPER_SERVICE_DIR="$T/pam.d" pamtester -v "nk-$1" root authenticate \
		    > "$T/out" 2>&1 && grep -q 'successfully authenticated' "$T/out"
		;;
	esac
}
# measure WHAT N: "APDUS SECONDS": the APDUs of the last run and the median
# wall time of N runs.
measure() {
	: > "$T/times"
	_i=0
	while [ $_i -lt "$2" ]; do
		_a=$(apdus)
		_t0=$(date +%s%N)
		run "$1" || { grep -v PWRAP "$T/out" 2>/dev/null | tail -3 >&2; die "$1: the login failed"; }
		_t1=$(date +%s%N)
		_n=$(( $(apdus) - _a ))
		echo $((_t1 - _t0)) >> "$T/times"
		_i=$((_i + 1))
	done
	echo "$_n $(sort -n "$T/times" | sed -n "$(( ($2 + 1) / 2 ))p" | awk '{ printf "%.3f", $1 / 1e9 }')"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

report() {	# KEYS
	rm -f "$T/cache/card-hints"
	_a=$(apdus)
	run auto || die "first login failed"
	cold=$(( $(apdus) - _a ))
	set -- "$1" $(measure floor "$RUNS") $(measure auto "$RUNS") $(measure pkcs11 3)
	keys=$1 fa=$2 ft=$3 da=$4 dt=$5 pa=$6 pt=$7
	printf '%-5s %-38s %6s %9s %8s %8s\n' "$keys" "floor (SELECT, VERIFY, sign)" "$fa" "$ft" 1.00 1.00
	printf '%-5s %-38s %6s %9s %8s %8s\n' "" "pam_nkhsm direct PC/SC (hinted)" "$da" "$dt" \
	    "$(ratio "$da" "$fa")" "$(ratio "$dt" "$ft")"
	printf '%-5s %-38s %6s %9s %8s %8s\n' "" "pam_nkhsm direct, first login (scan)" "$cold" "-" \
	    "$(ratio "$cold" "$fa")" -
	printf '%-5s %-38s %6s %9s %8s %8s\n' "" "pam_nkhsm driver=pkcs11 (OpenSC)" "$pa" "$pt" \
	    "$(ratio "$pa" "$fa")" "$(ratio "$pt" "$ft")"
	eval "direct_$keys=$da pkcs11_$keys=$pa"
}

echo "== PAM login on an emulated SmartCard-HSM (pico-hsm 6.6, vpcd, pcscd $(pcscd --version 2>/dev/null | awk 'NR==1 { sub(/\.$/, "", $NF); print $NF }'))"
echo "   OpenSC $(dpkg-query -W -f '${Version}' opensc 2>/dev/null); P-256 login key; wall time: median of $RUNS runs (pkcs11: 3)"
printf '%-5s %-38s %6s %9s %8s %8s\n' keys program APDUs "wall s" "APDU x" "time x"
report 3
# The command sequence of a hinted login.
_a=$(apdus)
run auto || die "login failed"
grep 'APDU:' "$T/card/pcscd.log" | tail -n +$((_a + 1)) | sed 's/^.*APDU: //' |
    awk '{ printf "      %s %s %s %s%s\n", $1, $2, $3, $4, (NF > 4 ? " ..." : "") }' > "$T/seq"
for i in 4 5 6 7 8 9 10 11 12; do
	nkc keygen --curve p256 --label "more$i" --pin-source env:BENCH_PIN > /dev/null || die "keygen more$i failed"
done
report 12
echo "   (floor: no logout; pam_nkhsm selects the applet again at the end, which logs the card out)"
echo "   a hinted login's commands (SELECT, PIN status, READ 2F02, READ CE01, VERIFY, sign, SELECT):"
cat "$T/seq"
[ "$direct_3" -le 8 ] && [ "$direct_12" -eq "$direct_3" ] &&
    echo "goal: at most 8 APDUs with 3 keys and 1 certificate, the same with 12: met ($direct_3, $direct_12)" ||
    echo "goal: at most 8 APDUs with 3 keys and 1 certificate, the same with 12: MISSED ($direct_3, $direct_12)"
