#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench/run.sh - nkhsm against its peers, in one run, on one SoftHSM token.
#
# Wall time is noise on a shared 2-core machine; instruction counts
# (valgrind --tool=callgrind) and PKCS#11 call counts (OpenSC's pkcs11-spy)
# are stable, so those are what is compared and reported as ratios.
set -eu
: "${top_builddir:=.}"
: "${SOFTHSM_MODULE:=/usr/lib/softhsm/libsofthsm2.so}"
SPY=${PKCS11_SPY:-/usr/lib/x86_64-linux-gnu/pkcs11-spy.so}
TOOL="$top_builddir/tools/nkhsm-tool"
BARE="$top_builddir/bench/bare_sign"
for need in valgrind softhsm2-util; do
	command -v $need >/dev/null || { echo "bench: $need is missing" >&2; exit 1; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/nkhsm-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
mkdir "$T/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" > "$T/softhsm2.conf"
export SOFTHSM2_CONF="$T/softhsm2.conf"
: > "$T/empty.conf"; chmod 600 "$T/empty.conf"
softhsm2-util --init-token --free --label bench --so-pin 0123456789abcdef --pin 123456 >/dev/null
export BENCH_PIN=123456
"$TOOL" --config "$T/empty.conf" --module "$SOFTHSM_MODULE" keygen --curve p256 --label b --id 01 \
    --pin-source env:BENCH_PIN >/dev/null
head -c 4096 /dev/urandom > "$T/msg"

# The libtool wrapper would put a shell under valgrind: run the real binary.
LT="$top_builddir/libtool --mode=execute"
tool_sign() {
	$LT ${VG:-} "$TOOL" --config "$T/empty.conf" --module "$1" sign --pin-source env:BENCH_PIN \
	    -i "$T/msg" -o "$T/sig" 'pkcs11:token=bench;id=%01'
}
bare_sign() {
	${VG:-} "$BARE" "$1" bench 01 123456 < "$T/msg" > "$T/sig"
}

# instructions NAME FN MODULE: callgrind's total instruction count of FN.
instructions() {
	name=$1
	VG="valgrind --tool=callgrind --callgrind-out-file=$T/cg.$name" "$2" "$3" >/dev/null 2>&1
	awk '/^summary:/ {print $2}' "$T/cg.$name"
}
# calls NAME CMD(module)...: PKCS#11 calls seen by pkcs11-spy (C_GetFunctionList excluded).
calls() {
	name=$1; shift
	PKCS11SPY="$SOFTHSM_MODULE" PKCS11SPY_OUTPUT="$T/spy.$name" "$@" "$SPY" >/dev/null 2>&1
	grep -E '^[0-9]+: C_' "$T/spy.$name" | grep -vc 'C_GetFunctionList'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

echo "== one-shot signature: nkhsm-tool sign vs a bare PKCS#11 program (SoftHSM, P-256)"
# Warm the page cache, then count.
tool_sign "$SOFTHSM_MODULE"; bare_sign "$SOFTHSM_MODULE"
ti=$(instructions tool tool_sign "$SOFTHSM_MODULE")
bi=$(instructions bare bare_sign "$SOFTHSM_MODULE")
printf '%-28s %14s instructions\n' "bare PKCS#11 program" "$bi" "nkhsm-tool sign" "$ti"
echo "ratio nkhsm-tool/bare:        $(ratio "$ti" "$bi")   (target <= 1.2)"
if [ -f "$SPY" ]; then
	tc=$(calls tool tool_sign)
	bc=$(calls bare bare_sign)
	printf '%-28s %14s PKCS#11 calls\n' "bare PKCS#11 program" "$bc" "nkhsm-tool sign" "$tc"
	echo "calls by nkhsm-tool sign:"
	grep -E '^[0-9]+: C_' "$T/spy.tool" | awk '{print $2}' | grep -v C_GetFunctionList |
	    sort | uniq -c | sort -rn | sed 's/^/    /'
else
	echo "(pkcs11-spy not found at $SPY: call counts skipped)"
fi
