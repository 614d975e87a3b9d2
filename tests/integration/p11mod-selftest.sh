#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# p11mod-selftest.sh - proves that the fault-injecting PKCS#11 module
# (tests/p11mod/libnkfault.so) forwards to SoftHSM and injects each fault it
# documents, driven by OpenSC's pkcs11-tool on a throwaway SoftHSM token.
# Exit codes follow automake: 0 pass, 1 fail, 77 skip.

set -u
: "${top_builddir:=.}"
: "${SOFTHSM_MODULE:=/usr/lib/softhsm/libsofthsm2.so}"
MOD="$top_builddir/tests/p11mod/.libs/libnkfault.so"
SO_PIN=12345678
PIN=123456

command -v softhsm2-util >/dev/null 2>&1 || { echo "skip: softhsm2-util missing"; exit 77; }
command -v pkcs11-tool >/dev/null 2>&1 || { echo "skip: pkcs11-tool (opensc) missing"; exit 77; }
[ -f "$SOFTHSM_MODULE" ] || { echo "skip: $SOFTHSM_MODULE missing"; exit 77; }
[ -f "$MOD" ] || { echo "FAIL: $MOD not built"; exit 1; }
case $MOD in /*) ;; *) MOD="$(pwd)/$MOD";; esac

# Nothing from the caller's environment may configure the module.
for v in $(env | sed -n 's/^\(NKFAULT_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
export NKFAULT_MODULE="$SOFTHSM_MODULE"

T=$(mktemp -d "${TMPDIR:-/tmp}/p11mod-selftest.XXXXXX")
trap 'rm -rf "$T"' EXIT
mkdir "$T/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$T" > "$T/softhsm2.conf"
export SOFTHSM2_CONF="$T/softhsm2.conf"
softhsm2-util --init-token --free --label t --so-pin "$SO_PIN" --pin "$PIN" >/dev/null ||
    { echo "FAIL: cannot initialise a SoftHSM token"; exit 1; }
ulimit -c 0	# the crash tests must not leave cores behind

npass=0
nfail=0
pass() { npass=$((npass + 1)); echo "ok $npass - $*"; }
fail() { nfail=$((nfail + 1)); echo "FAIL - $*"; }

# p11 ARGS...: pkcs11-tool through the wrapper; output in $T/out, exit code in $rc.
p11() {
	pkcs11-tool --module "$MOD" "$@" >"$T/out" 2>&1 </dev/null
	rc=$?
}
# check DESCRIPTION TEST...: pass if the test command succeeds, else show the output.
check() {
	desc=$1
	shift
	if "$@"; then
		pass "$desc"
	else
		fail "$desc"
		sed 's/^/  | /' "$T/out" | head -8
	fi
}
has() { grep -q -- "$1" "${2:-$T/out}"; }
lacks() { ! grep -q -- "$1" "${2:-$T/out}"; }
fails() { ! "$@"; }
last_log_has() { tail -n 1 "$T/log" | grep -q -- "$1"; }
# flags_have PATTERN: the token flags that pkcs11-tool -T printed last ($flags).
token_flags() { p11 -T; flags=$(sed -n 's/^ *token flags *: //p' "$T/out" | head -n 1); }
flags_have() { echo "$flags" | grep -q -- "$1"; }

# --- plain forwarding, the call log and the count file ---
NKFAULT_LOG="$T/log" NKFAULT_COUNT_FILE="$T/count" p11 -L
check "listing through the wrapper exits 0" [ "$rc" -eq 0 ]
check "listing shows the SoftHSM token" has 'token label *: t$'
check "log starts with C_Initialize" [ "$(head -n 1 "$T/log")" = "1 C_Initialize 0x0" ]
check "log ends with C_Finalize" last_log_has '^[0-9]* C_Finalize 0x0$'
total=$(sed -n 's/^TOTAL //p' "$T/count")
check "count file has TOTAL > 0" [ "${total:-0}" -gt 0 ]
check "TOTAL equals the number of logged calls" [ "${total:-0}" -eq "$(wc -l < "$T/log")" ]
check "per-function lines add up to TOTAL" \
    [ "$(grep -v '^TOTAL' "$T/count" | awk '{ s += $2 } END { print s }')" -eq "${total:-0}" ]
check "count file has C_GetTokenInfo" has '^C_GetTokenInfo [1-9]' "$T/count"
rm -f "$T/log" "$T/count"

# --- injected failures ---
NKFAULT_FAIL_FN=C_GetTokenInfo NKFAULT_RV=CKR_DEVICE_REMOVED p11 -L
check "FAIL_FN=C_GetTokenInfo: the token is missing" lacks 'token label *: t$'
check "FAIL_FN=C_GetTokenInfo: CKR_DEVICE_REMOVED reported" has CKR_DEVICE_REMOVED

NKFAULT_FAIL_AT=1 NKFAULT_LOG="$T/log" p11 -L
check "FAIL_AT=1: C_Initialize fails" [ "$rc" -ne 0 ]
check "FAIL_AT=1: default rv is CKR_DEVICE_REMOVED (0x32)" [ "$(head -n 1 "$T/log")" = "1 C_Initialize 0x32" ]
rm -f "$T/log"

NKFAULT_FAIL_FN=C_GetSlotList NKFAULT_FAIL_FN_AT=2 NKFAULT_RV=0x150 NKFAULT_LOG="$T/log" p11 -L
check "FAIL_FN_AT=2: the 2nd C_GetSlotList fails" has '^3 C_GetSlotList 0x150$' "$T/log"
check "FAIL_FN_AT=2: the 1st one was forwarded" has '^2 C_GetSlotList 0x0$' "$T/log"
rm -f "$T/log"

NKFAULT_FAIL_FN=C_GetSlotInfo NKFAULT_FAIL_FN_ALL=1 NKFAULT_RV=CKR_DEVICE_ERROR NKFAULT_LOG="$T/log" p11 -L
check "FAIL_FN_ALL=1: every C_GetSlotInfo fails" \
    [ "$(grep -c ' C_GetSlotInfo 0x30$' "$T/log")" -eq "$(grep -c ' C_GetSlotInfo ' "$T/log")" ]
rm -f "$T/log"

NKFAULT_FALI_AT=3 p11 -L
check "a misspelt NKFAULT_ variable makes C_Initialize fail" has 'unknown variable NKFAULT_FALI_AT'
NKFAULT_RV=CKR_NO_SUCH_THING p11 -L
check "an unknown NKFAULT_RV name makes C_Initialize fail" [ "$rc" -ne 0 ]

# --- token flags, locked and PIN pad ---
p11 --login --pin "$PIN" -O
check "login with the right PIN works" [ "$rc" -eq 0 ]
NKFAULT_FLAGS=locked p11 --login --pin "$PIN" -O
check "FLAGS=locked: login fails" [ "$rc" -ne 0 ]
check "FLAGS=locked: with CKR_PIN_LOCKED" has CKR_PIN_LOCKED
NKFAULT_FLAGS=count_low,final_try,to_be_changed,pinpad token_flags
check "FLAGS=count_low shows in C_GetTokenInfo" flags_have 'user PIN count low'
check "FLAGS=final_try shows in C_GetTokenInfo" flags_have 'final user PIN try'
check "FLAGS=to_be_changed shows in C_GetTokenInfo" flags_have 'user PIN to be changed'
check "FLAGS=pinpad shows in C_GetTokenInfo" flags_have 'PIN pad present'
NKFAULT_FLAGS=pinpad NKFAULT_PINPAD_PIN="$PIN" p11 --login -O
check "FLAGS=pinpad: login without a PIN uses the pad's PIN" [ "$rc" -eq 0 ]
NKFAULT_FLAGS=pinpad p11 --login -O
check "FLAGS=pinpad without PINPAD_PIN: CKR_FUNCTION_CANCELED" has CKR_FUNCTION_CANCELED

# --- the emulated PIN retry counter ---
export NKFAULT_PIN_TRIES=3 NKFAULT_STATE="$T/state"
token_flags
check "PIN_TRIES=3: no PIN flags at first" fails flags_have 'user PIN'
p11 --login --pin 654321 -O
check "wrong PIN 1: CKR_PIN_INCORRECT" has CKR_PIN_INCORRECT
token_flags
check "wrong PIN 1: count low" flags_have 'user PIN count low'
check "wrong PIN 1: not final try" fails flags_have 'final user PIN try'
p11 --login --pin "$PIN" -O
check "the right PIN works with 2 tries left" [ "$rc" -eq 0 ]
check "the right PIN resets the counter" [ "$(cat "$T/state")" = 3 ]
p11 --login --pin 654321 -O
p11 --login --pin 654321 -O
token_flags
check "wrong PIN 2: count low and final try" flags_have 'user PIN count low.*final user PIN try'
check "wrong PIN 2: not locked yet" fails flags_have 'user PIN locked'
p11 --login --pin 654321 -O
check "wrong PIN 3: CKR_PIN_INCORRECT" has CKR_PIN_INCORRECT
token_flags
check "wrong PIN 3: locked" flags_have 'user PIN locked'
p11 --login --pin "$PIN" -O
check "locked: the right PIN is refused" [ "$rc" -ne 0 ]
check "locked: with CKR_PIN_LOCKED" has CKR_PIN_LOCKED
p11 --login --login-type so --so-pin "$SO_PIN" --init-pin --new-pin "$PIN"
check "C_InitPIN by the SO succeeds" [ "$rc" -eq 0 ]
check "C_InitPIN by the SO unblocks" [ "$(cat "$T/state")" = 3 ]
p11 --login --pin "$PIN" -O
check "after unblocking the right PIN works" [ "$rc" -eq 0 ]
unset NKFAULT_PIN_TRIES NKFAULT_STATE
NKFAULT_PIN_TRIES=3 p11 -L
check "PIN_TRIES without STATE makes C_Initialize fail" has 'NKFAULT_STATE is required'

# --- corrupted outputs ---
p11 --login --pin "$PIN" --keypairgen --key-type EC:prime256v1 --label k --id 01
check "EC key generation through the wrapper" [ "$rc" -eq 0 ]
printf 'to be signed' > "$T/data"
if command -v openssl >/dev/null 2>&1; then
	openssl dgst -sha256 -binary "$T/data" > "$T/hash"
	p11 --read-object --type pubkey --id 01 -o "$T/pub.der"
	sign() { p11 --login --pin "$PIN" --sign -m ECDSA --id 01 -i "$T/hash" -o "$1" --signature-format openssl; }
	verify() { openssl pkeyutl -verify -pubin -inkey "$T/pub.der" -keyform DER -in "$T/hash" -sigfile "$1" >/dev/null 2>&1; }
	sign "$T/sig.good"
	check "a signature through the wrapper verifies" verify "$T/sig.good"
	NKFAULT_CORRUPT=sig sign "$T/sig.bad"
	check "CORRUPT=sig: signing still succeeds" [ "$rc" -eq 0 ]
	check "CORRUPT=sig: the signature does not verify" fails verify "$T/sig.bad"
else
	echo "# openssl missing: signature verification checks skipped"
fi
p11 --login --pin "$PIN" --sign -m ECDSA --id 01 -i "$T/data" -o "$T/raw"
check "a raw P-256 signature is 64 bytes" [ "$(wc -c < "$T/raw")" -eq 64 ]
NKFAULT_CORRUPT=siglen p11 --login --pin "$PIN" --sign -m ECDSA --id 01 -i "$T/data" -o "$T/raw"
check "CORRUPT=siglen: 63 bytes" [ "$(wc -c < "$T/raw")" -eq 63 ]

p11 -O --type pubkey
good_point=$(sed -n 's/^ *EC_POINT: *//p' "$T/out")
NKFAULT_CORRUPT=ecpoint,ecparams p11 -O --type pubkey
bad_point=$(sed -n 's/^ *EC_POINT: *//p' "$T/out")
check "CORRUPT=ecpoint: the point is listed" [ -n "$good_point" ]
check "CORRUPT=ecpoint: same length" [ "${#good_point}" -eq "${#bad_point}" ]
check "CORRUPT=ecpoint: the point differs" [ "$good_point" != "$bad_point" ]
check "CORRUPT=ecpoint: only in the last byte" [ "${good_point%??}" = "${bad_point%??}" ]
check "CORRUPT=ecparams: an unknown OID" has 'EC_PARAMS: *06092b06010401868d1f01'
NKFAULT_CORRUPT=ecpoint p11 --read-object --type pubkey --id 01 -o "$T/pub.bad"
check "CORRUPT=ecpoint: the point is rejected as off the curve" [ "$rc" -ne 0 ]
p11 -O --type pubkey
check "the key's label reads as k" has 'label: *k$'
NKFAULT_CORRUPT=label p11 -O --type pubkey
check "CORRUPT=label: its last byte flipped (k reads as j)" has 'label: *j$'
p11 --read-object --type data --label nothere -o "$T/none"
check "a search for nothing finds nothing" has 'object not found'
NKFAULT_CORRUPT=phantom p11 --read-object --type data --label nothere -o "$T/none"
check "CORRUPT=phantom: it finds an object whose handle names none" has CKR_OBJECT_HANDLE_INVALID

# --- latency, hangs and crashes ---
start=$(date +%s%N)
NKFAULT_DELAY_MS=100 NKFAULT_LOG="$T/log" p11 -L
ms=$(( ($(date +%s%N) - start) / 1000000 ))
calls=$(wc -l < "$T/log")
check "DELAY_MS=100: $calls calls took ${ms} ms (>= $((calls * 100)))" [ "$ms" -ge $((calls * 100)) ]
rm -f "$T/log"

NKFAULT_HANG_FN=C_GetTokenInfo NKFAULT_LOG="$T/log" timeout 2 pkcs11-tool --module "$MOD" -L >"$T/out" 2>&1
rc=$?
check "HANG_FN: the process hangs until killed" [ "$rc" -eq 124 ]
check "HANG_FN: the log shows where" last_log_has '^[0-9]* C_GetTokenInfo hang$'
rm -f "$T/log"

# PAUSE: the call waits for its file, then goes on; required with it.
NKFAULT_PAUSE_FN=C_GetTokenInfo p11 -L
check "PAUSE without PAUSE_FILE makes C_Initialize fail" has 'NKFAULT_PAUSE_FILE is required'
NKFAULT_PAUSE_FN=C_GetTokenInfo NKFAULT_PAUSE_FILE="$T/go" NKFAULT_LOG="$T/log" \
    pkcs11-tool --module "$MOD" -L >"$T/out" 2>&1 </dev/null &
pp=$!
n=0
while ! grep -q 'C_GetTokenInfo pause$' "$T/log" 2>/dev/null && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
check "PAUSE_FN: the log shows where it waits" last_log_has '^[0-9]* C_GetTokenInfo pause$'
sleep 0.3
check "PAUSE_FN: it waits while the file is missing" kill -0 $pp
touch "$T/go"
wait $pp
rc=$?
check "PAUSE_FN: once the file exists it goes on and succeeds" [ "$rc" -eq 0 ]
check "PAUSE_FN: the paused call returned CKR_OK" grep -q '^[0-9]* C_GetTokenInfo 0x0$' "$T/log"
rm -f "$T/log" "$T/go"

NKFAULT_CRASH_FN=C_OpenSession NKFAULT_LOG="$T/log" p11 -O
check "CRASH_FN: the process dies by a signal" [ "$rc" -gt 128 ]
check "CRASH_FN: the log shows where" last_log_has '^[0-9]* C_OpenSession crash$'
rm -f "$T/log"
NKFAULT_CRASH_AT=3 NKFAULT_CRASH_SIGNAL=SEGV NKFAULT_LOG="$T/log" p11 -L
check "CRASH_AT=3 with SEGV: killed by SIGSEGV" [ "$rc" -eq 139 ]
check "CRASH_AT=3: the log ends at call 3" last_log_has '^3 C_[A-Za-z]* crash$'
rm -f "$T/log"

# --- counts reported at exit without C_Finalize ---
if command -v python3 >/dev/null 2>&1; then
	NKFAULT_COUNT_FILE="$T/count" python3 - "$MOD" <<'PY'
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
fl = ctypes.POINTER(ctypes.c_void_p)()
assert lib.C_GetFunctionList(ctypes.byref(fl)) == 0
init = ctypes.CFUNCTYPE(ctypes.c_ulong, ctypes.c_void_p)(fl[1])  # after the version
assert init(None) == 0
PY
	check "counts are reported at exit without C_Finalize" has '^C_Initialize 1$' "$T/count"
	rm -f "$T/count"
fi

# --- memory: nothing lost or misused inside the wrapper ---
if command -v valgrind >/dev/null 2>&1; then
	NKFAULT_CORRUPT=ecpoint,ecparams NKFAULT_COUNT_FILE="$T/count" NKFAULT_LOG="$T/log" \
	    NKFAULT_PIN_TRIES=3 NKFAULT_STATE="$T/state" \
	    valgrind --leak-check=full --show-leak-kinds=definite,indirect,possible --keep-debuginfo=yes --log-file="$T/vg" \
	    pkcs11-tool --module "$MOD" --login --pin "$PIN" -O >/dev/null 2>&1
	check "valgrind ran" has 'ERROR SUMMARY' "$T/vg"
	# --keep-debuginfo: pkcs11-tool unloads the module before the leak report.
	grep -v 'Command:' "$T/vg" | grep -B4 -A8 'libnkfault\|nkfault\.c\| w_C_' > "$T/out"
	check "valgrind: no error or leak involving libnkfault" [ ! -s "$T/out" ]
fi

echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
