#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench/sshca.sh - nkhsm-sshca against ssh-keygen -s -D, in one run, on one
# SoftHSM token: a batch of user certificates, the raw token signing rate, the
# Nitrokey latency model (20 ms per PKCS#11 call, 167 ms per signature), and
# what each does when the token returns a corrupted signature.
set -eu
: "${top_builddir:=.}"
: "${SOFTHSM_MODULE:=/usr/lib/softhsm/libsofthsm2.so}"
N=${NKHSM_BENCH_CERTS:-100}
NLAT=${NKHSM_BENCH_LATENCY_CERTS:-10}
NMARG=${NKHSM_BENCH_MARGINAL:-1000}
SCA="$top_builddir/sshca/nkhsm-sshca"
BARE="$top_builddir/bench/bare_sign"
FAULT="$top_builddir/tests/p11mod/.libs/libnkfault.so"
for f in "$SCA" "$BARE" "$FAULT"; do
	[ -x "$f" ] || [ -f "$f" ] || { echo "bench: $f missing (make first)" >&2; exit 1; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/nkhsm-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
mkdir "$T/tokens" "$T/keys"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" > "$T/softhsm2.conf"
export SOFTHSM2_CONF="$T/softhsm2.conf" NKFAULT_MODULE="$SOFTHSM_MODULE"
: > "$T/empty.conf"; chmod 600 "$T/empty.conf"
softhsm2-util --init-token --free --label bench --so-pin 0123456789abcdef --pin 123456 >/dev/null
export BENCH_PIN=123456
# ssh-keygen -D asks for the PIN through SSH_ASKPASS only.
printf '#!/bin/sh\necho 123456\n' > "$T/askpass"; chmod 755 "$T/askpass"

sca() { "$SCA" --config "$T/empty.conf" --state "$T/state" --pin-source env:BENCH_PIN -q "$@"; }
sca --module "$SOFTHSM_MODULE" init > "$T/ca.pub"
i=0
while [ $i -lt "$N" ]; do
	i=$((i + 1))
	ssh-keygen -q -t ecdsa -N '' -C "u$i" -f "$T/keys/u$i"
done
now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }

# The 100-certificate comparison runs twice: with the files (keys,
# certificates, ledger) on a tmpfs, where it measures the programs, and on
# $TMPDIR's filesystem, where it also pays for that filesystem: nkhsm-sshca
# syncs its ledger and certificates (about 10 ms a batch on journaled ext4),
# ssh-keygen syncs nothing, and the raw loop writes nothing.
fstype() { df --output=fstype "$1" 2>/dev/null | tail -n 1 || echo unknown; }
S=
if [ -z "${NKHSM_BENCH_NO_TMPFS:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] &&
    [ "$(fstype /dev/shm)" = tmpfs ] && [ "$(fstype "$T")" != tmpfs ]; then
	S=$(mktemp -d /dev/shm/nkhsm-bench.XXXXXX)
	trap 'rm -rf "$T" "$S"' EXIT
	mkdir "$S/keys"
	cp -p "$T"/keys/u*.pub "$S/keys/"
fi
# batch DIR: wall seconds of one nkhsm-sshca batch over DIR/keys (state in DIR),
# then of ssh-keygen -s -D once per key; every certificate checked, then removed.
batch() {
	d=$1
	[ -d "$d/state" ] || cp -rp "$T/state" "$d/state"
	t0=$(now)
	"$SCA" --config "$T/empty.conf" --state "$d/state" --pin-source env:BENCH_PIN -q \
	    --module "$SOFTHSM_MODULE" sign --user -I bench -n alice -V +1h "$d"/keys/u*.pub
	t1=$(now)
	b_nk=$(secs "$t0" "$t1")
	for f in "$d"/keys/u*-cert.pub; do
		ssh-keygen -L -f "$f" >/dev/null || { echo "bench: bad certificate $f"; exit 1; }
	done
	rm -f "$d"/keys/*-cert.pub
	t0=$(now)
	i=0
	while [ $i -lt "$N" ]; do
		i=$((i + 1))
		SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0 \
		    ssh-keygen -q -s "$T/ca.pub" -D "$SOFTHSM_MODULE" -I bench -n alice -V +1h \
		    -z $i "$d/keys/u$i.pub" </dev/null >/dev/null 2>&1
	done
	t1=$(now)
	b_sk=$(secs "$t0" "$t1")
	[ -f "$d/keys/u1-cert.pub" ] || { echo "bench: ssh-keygen -s -D produced nothing"; exit 1; }
	rm -f "$d"/keys/*-cert.pub
}
echo "== $N user certificates (SoftHSM, P-256 CA key), files on $(fstype "$T") ($T)"
batch "$T"
nk_s=$b_nk sk_s=$b_sk
if [ -n "$S" ]; then
	echo "== the same, files on tmpfs ($S)"
	batch "$S"
	nk_m=$b_nk sk_m=$b_sk
fi

echo "== raw token signing rate (bare PKCS#11 loop, $N signatures, one login)"
head -c 300 /dev/urandom > "$T/msg"
keyid=$(sca --module "$SOFTHSM_MODULE" list 2>/dev/null | head -0; "$top_builddir/tools/nkhsm-tool" --config "$T/empty.conf" --module "$SOFTHSM_MODULE" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["keys"][0]["id"])')
t0=$(now)
"$BARE" "$SOFTHSM_MODULE" bench "$keyid" 123456 "$N" < "$T/msg" > /dev/null
t1=$(now)
raw_s=$(secs "$t0" "$t1")

# The marginal cost is the programs' own: on the tmpfs when there is one.
M=${S:-$T}
echo "== marginal cost: 1 vs $NMARG certificates, 1 vs $NMARG raw signatures (files on $(fstype "$M"))"
i=$N
while [ $i -lt "$NMARG" ]; do
	i=$((i + 1))
	ssh-keygen -q -t ecdsa -N '' -C "u$i" -f "$M/keys/u$i"
done
msca() { "$SCA" --config "$T/empty.conf" --state "$M/state" --pin-source env:BENCH_PIN -q "$@"; }
t0=$(now); msca --module "$SOFTHSM_MODULE" sign --user -I m -n alice -V +1h "$M/keys/u1.pub"; t1=$(now)
m_nk1=$(secs "$t0" "$t1"); rm -f "$M"/keys/*-cert.pub
t0=$(now); msca --module "$SOFTHSM_MODULE" sign --user -I m -n alice -V +1h "$M"/keys/u*.pub; t1=$(now)
m_nkn=$(secs "$t0" "$t1"); rm -f "$M"/keys/*-cert.pub
t0=$(now); "$BARE" "$SOFTHSM_MODULE" bench "$keyid" 123456 1 < "$T/msg" > /dev/null; t1=$(now)
m_raw1=$(secs "$t0" "$t1")
t0=$(now); "$BARE" "$SOFTHSM_MODULE" bench "$keyid" 123456 "$NMARG" < "$T/msg" > /dev/null; t1=$(now)
m_rawn=$(secs "$t0" "$t1")

echo "== latency model: 20 ms per call, 167 ms per signature ($NLAT certificates)"
t0=$(now)
NKFAULT_DELAY_MS=20 NKFAULT_SIGN_DELAY_MS=167 NKFAULT_LOG="$T/calls.nk" \
    sca --module "$FAULT" sign --user -I bench -n alice -V +1h \
    $(i=0; while [ $i -lt "$NLAT" ]; do i=$((i + 1)); printf '%s ' "$T/keys/u$i.pub"; done)
t1=$(now)
nk_lat=$(secs "$t0" "$t1")
rm -f "$T"/keys/*-cert.pub
t0=$(now)
for i in 1 2 3; do
	NKFAULT_DELAY_MS=20 NKFAULT_SIGN_DELAY_MS=167 NKFAULT_LOG="$T/calls.sk$i" \
	    SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0 \
	    ssh-keygen -q -s "$T/ca.pub" -D "$FAULT" -I bench -n alice -V +1h -z $((1000 + i)) \
	    "$T/keys/u$i.pub" </dev/null >/dev/null 2>&1
done
t1=$(now)
sk_lat=$(secs "$t0" "$t1")
rm -f "$T"/keys/*-cert.pub
nk_calls=$(wc -l < "$T/calls.nk")
sk_calls=$(wc -l < "$T/calls.sk1")

echo "== a corrupted signature from the token"
before=$(sca list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
if NKFAULT_CORRUPT=sig sca --module "$FAULT" sign --user -I bad -n alice -V +1h "$T/keys/u1.pub" 2>/dev/null; then
	nk_bad="exit 0 (!)"
else
	nk_bad="exit $?"
fi
after=$(sca list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ -f "$T/keys/u1-cert.pub" ] && nk_file=written || nk_file="no file"
NKFAULT_CORRUPT=sig SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0 \
    ssh-keygen -q -s "$T/ca.pub" -D "$FAULT" -I bad -n alice -V +1h -z 7 "$T/keys/u2.pub" \
    </dev/null >/dev/null 2>&1 && sk_bad="exit 0" || sk_bad="exit $?"
if [ -f "$T/keys/u2-cert.pub" ]; then
	ssh-keygen -L -f "$T/keys/u2-cert.pub" >/dev/null 2>&1 && sk_file="written, parses" ||
	    sk_file="written, ssh-keygen -L rejects it"
else
	sk_file="no file"
fi

echo
awk -v n="$N" -v nk="$nk_s" -v sk="$sk_s" -v nl="$NLAT" \
    -v nkl="$nk_lat" -v skl="$sk_lat" -v nkc="$nk_calls" -v skc="$sk_calls" 'BEGIN {
	printf "%-40s %10s %12s\n", "", "nkhsm-sshca", "ssh-keygen -D"
	printf "%-40s %10.3f %12.3f\n", n " certificates, wall s", nk, sk
	printf "%-40s %10.1f %12.1f\n", "certificates per second", n / nk, n / sk
	printf "%-40s %10.3f %12.3f\n", "latency model, s per certificate", nkl / nl, skl / 3
	printf "%-40s %10.1f %12.1f\n", "PKCS#11 calls per certificate", nkc / nl, skc
}'
# targets WHERE NK SK: the two throughput targets for one placement.
targets() {
	awk -v w="$1" -v n="$N" -v nk="$2" -v sk="$3" -v raw="$raw_s" 'BEGIN {
	printf "%s: batch speed-up over ssh-keygen -s -D per key %.1fx (target >= 20x: %s); ", w, sk / nk, (sk / nk >= 20 ? "met" : "MISSED")
	printf "raw token rate %.0f signatures/s, nkhsm-sshca %.0f certificates/s: %.2fx slower (target <= 3x: %s)\n", n / raw, n / nk, nk / raw, (nk / raw <= 3 ? "met" : "MISSED")
	}'
}
targets "files on $(fstype "$T")" "$nk_s" "$sk_s"
[ -n "$S" ] && targets "files on tmpfs" "$nk_m" "$sk_m"
awk -v nkl="$nk_lat" -v nl="$NLAT" 'BEGIN {
	printf "latency model: %.3f s per certificate (target <= 0.25 s: %s; one signature is 0.167 s)\n", nkl / nl, (nkl / nl <= 0.25 ? "met" : "MISSED")
}'
awk -v m="$NMARG" -v a="$m_nk1" -v b="$m_nkn" -v c="$m_raw1" -v d="$m_rawn" 'BEGIN {
	nk = (b - a) / (m - 1); raw = (d - c) / (m - 1)
	printf "marginal: %.3f ms per certificate, %.3f ms per raw signature: %.2fx (%d items, start-up excluded)\n", nk * 1000, raw * 1000, nk / raw, m
}'
echo "corrupted signature: nkhsm-sshca $nk_bad, $nk_file, ledger $before -> $after entries;" \
    "ssh-keygen -s -D $sk_bad, $sk_file"
