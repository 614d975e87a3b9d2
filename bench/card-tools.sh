#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench/card-tools.sh - what each nkhsm-tool and nkhsm-sshca command sends
# to a SmartCard-HSM through pcscd and OpenSC's opensc-pkcs11.so: commands
# (APDUs) counted in pcscd's log, on an emulated card (../shared/schsm-emu,
# through tests/integration/card-common.sh), and wall time, which on this
# stack is about 50 ms per APDU. For each command the count of a bare
# `nkhsm-tool list` on the same card contents is given too: that is
# OpenSC's binding of the card in C_Initialize, which grows with the
# objects on the card; the rest is the command's own work.
set -u
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
export top_builddir top_srcdir
# The test harness: a private directory, its cleanup, nk and sc, the card.
# It exits 77 when the card cannot start; make bench goes on without it.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/card-common.sh"
card_start

now() { date +%s.%N; }
# measure NAME CMD...: one line of the table; the command must succeed.
measure() {
	_name=$1
	shift
	apdu_mark
	nk list >/dev/null 2>&1
	_bind=$(apdus_since)
	apdu_mark
	_t0=$(now)
	if ! "$@" >"$T/out" 2>"$T/err"; then
		echo "bench: $_name failed:" >&2
		cat "$T/err" >&2
		exit 1
	fi
	_t1=$(now)
	_n=$(apdus_since)
	_secs=$(awk -v a="$_t0" -v b="$_t1" 'BEGIN { printf "%.1f", b - a }')
	if [ "$_n" -eq 0 ]; then
		echo "| $_name | 0 | - | - | $_secs s |"
	else
		echo "| $_name | $_n | $_bind | $((_n - _bind)) | $_secs s |"
	fi
}

for i in $(seq 1 10); do
	ssh-keygen -q -t ed25519 -N '' -C "u$i" -f "$T/u$i" || exit 1
done
printf 'message\n' > "$T/msg"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/h.key" \
    -subj /CN=host.example -out "$T/h.csr" 2>/dev/null || exit 1

echo "== nkhsm-tool and nkhsm-sshca on an emulated SmartCard-HSM (OpenSC $(opensc-tool -i 2>/dev/null |
    sed -n 's/^OpenSC \([0-9.]*\).*/\1/p'))"
echo
echo '| command | APDUs | of which binding (bare list) | own | wall time |'
echo '| --- | ---: | ---: | ---: | ---: |'
measure 'nkhsm-tool list (blank card)' nk list
measure 'nkhsm-tool status (no key)' nk status
measure 'nkhsm-tool keygen --curve p256' nk keygen --curve p256 --label k256 --id 01 \
    --pin-source "$TEST_PIN"
measure 'nkhsm-tool keygen --curve p384' nk keygen --curve p384 --label k384 --id 02 \
    --pin-source "$TEST_PIN"
measure 'nkhsm-tool keygen --curve p521' nk keygen --curve p521 --label k521 --id 03 \
    --pin-source "$TEST_PIN"
measure 'nkhsm-tool pubkey (P-256)' nk pubkey 'pkcs11:id=%01'
measure 'nkhsm-tool pubkey (P-521)' nk pubkey 'pkcs11:id=%03'
measure 'nkhsm-tool sign (P-256)' nk sign --pin-source "$TEST_PIN" -i "$T/msg" \
    -o "$T/sig" 'pkcs11:id=%01'
measure 'nkhsm-tool sign (P-521)' nk sign --pin-source "$TEST_PIN" -i "$T/msg" \
    -o "$T/sig" 'pkcs11:id=%03'
measure 'nkhsm-tool selfsign --store (P-256)' nk selfsign --subject CN=b --days 1 --store \
    --pin-source "$TEST_PIN" 'pkcs11:id=%01' -o "$T/c.pem"
measure 'nkhsm-tool status (3 keys, 1 certificate)' nk status
measure 'nkhsm-sshca init (P-256 key made)' sc init
measure 'nkhsm-sshca sign, 1 key' sc sign --user -I one -n u -V +1h "$T/u1.pub"
measure 'nkhsm-sshca sign, batch of 10' sc sign --user -I ten -n u -V +1h \
    $(seq -f "$T/u%g.pub" 1 10)
measure 'nkhsm-sshca x509 --csr' sc x509 --csr "$T/h.csr" --profile host \
    --san DNS:host.example -o "$T/h.pem"
measure 'nkhsm-sshca crl' sc crl -o "$T/crl.pem"
measure 'nkhsm-sshca list (no card work)' sc list
echo
echo "Card contents at the end: 4 P-256/384/521 keys, 2 certificates, and the card's own"
echo "secp256k1 device key."
