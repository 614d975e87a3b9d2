#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench/sshca-pg.sh - nkhsm-sshca with its ledger on PostgreSQL, in one run
# against its peers: a batch of N user certificates recorded in PostgreSQL
# (a throwaway cluster from Debian's postgresql package, a Unix socket,
# fsync and synchronous_commit on) against ssh-keygen -s -D once per key
# (target >= 15x) and against the same batch on the SQLite ledger (the
# ratio reported); then two CA sites (two SoftHSM tokens, the same CA key)
# signing ROUNDS batches each at the same time into the one ledger, against
# one site alone (target: combined throughput >= 1.6x one site's).
# Wall times are medians of REPEAT runs. The ledgers (the PostgreSQL
# cluster, the SQLite file) are on $TMPDIR's filesystem, each commit synced
# there; the keys and certificates on a tmpfs when there is one (unless
# NKHSM_BENCH_NO_TMPFS), as bench/sshca.sh explains.
set -u
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
: "${SOFTHSM_MODULE:=/usr/lib/softhsm/libsofthsm2.so}"
N=${NKHSM_BENCH_CERTS:-100}
ROUNDS=${NKHSM_BENCH_ROUNDS:-5}
REPEAT=${NKHSM_BENCH_REPEAT:-3}
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/pg-common.sh"
[ -x "$SSHCA" ] || { echo "bench: $SSHCA missing (make first)" >&2; exit 1; }

pg_start durable
site a
site b
site s
at a -q init --key "$(site_key a)" --ledger "$PGURL" > "$T/ca.pub" &&
    at b -q init --join --key "$(site_key b)" --ledger "$PGURL" >/dev/null &&
    at s -q init --key "$(site_key s)" >/dev/null || { echo "bench: init failed"; exit 1; }
fstype() { df --output=fstype "$1" 2>/dev/null | tail -n 1; }
K=$T/files
if [ -z "${NKHSM_BENCH_NO_TMPFS:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] &&
    [ "$(fstype /dev/shm)" = tmpfs ]; then
	K=$(mktemp -d /dev/shm/nkhsm-bench-pg.XXXXXX)
	CLEANUP="rm -rf '$K'; $CLEANUP"
fi
echo "== PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $NF}'):" \
    "$(pg_sql nkca "SELECT 'fsync=' || current_setting('fsync') || ', synchronous_commit=' ||
    current_setting('synchronous_commit')"), Unix socket; ledgers on" \
    "$(fstype "$T") ($T), keys and certificates on $(fstype "$K") ($K)"
mkdir -p "$K/keys"
i=0
while [ $i -lt "$N" ]; do
	i=$((i + 1))
	ssh-keygen -q -t ecdsa -N '' -C "u$i" -f "$K/keys/u$i" || exit 1
done
for s in a b; do
	for r in $(seq 1 "$ROUNDS"); do
		mkdir -p "$K/rounds.$s/r$r"
		cp "$K"/keys/u*.pub "$K/rounds.$s/r$r/"
	done
done
printf '#!/bin/sh\necho %s\n' "$USER_PIN" > "$T/askpass"
chmod 755 "$T/askpass"
now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# batch SITE: the wall seconds of one sign of the N keys at SITE; each
# certificate checked by ssh-keygen -L, then removed.
batch() {
	t0=$(now)
	at "$1" -q sign --user -I bench -n alice -V +1h "$K"/keys/u*.pub || exit 1
	t1=$(now)
	for f in "$K"/keys/u*-cert.pub; do
		ssh-keygen -L -f "$f" >/dev/null || { echo "bench: bad certificate $f"; exit 1; }
	done
	rm -f "$K"/keys/*-cert.pub
	secs "$t0" "$t1"
}
for r in $(seq 1 "$REPEAT"); do batch a; done | median > "$T/pg.s"
for r in $(seq 1 "$REPEAT"); do batch s; done | median > "$T/sqlite.s"
pg_s=$(cat "$T/pg.s") sq_s=$(cat "$T/sqlite.s")
t0=$(now)
i=0
while [ $i -lt "$N" ]; do
	i=$((i + 1))
	SOFTHSM2_CONF="$T/a.softhsm2.conf" SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force \
	    DISPLAY=:0 ssh-keygen -q -s "$T/ca.pub" -D "$SOFTHSM_MODULE" -I bench -n alice \
	    -V +1h -z $i "$K/keys/u$i.pub" </dev/null >/dev/null 2>&1
done
t1=$(now)
sk_s=$(secs "$t0" "$t1")
[ -f "$K/keys/u1-cert.pub" ] || { echo "bench: ssh-keygen -s -D produced nothing"; exit 1; }
rm -f "$K"/keys/*-cert.pub

# rounds SITE: ROUNDS batches of N, one after another, as a site signing
# without pause; sites: one alone, then both at once.
rounds() {
	for r in $(seq 1 "$ROUNDS"); do
		at "$1" -q sign --user -I "site-$1" -n alice -V +1h "$K/rounds.$1/r$r"/u*[0-9].pub ||
		    return 1
	done
}
one= two=
for r in $(seq 1 "$REPEAT"); do
	t0=$(now); rounds a || exit 1; t1=$(now)
	one="$one $(secs "$t0" "$t1")"
	t0=$(now)
	rounds a & pa=$!
	rounds b & pb=$!
	wait $pa || exit 1
	wait $pb || exit 1
	t1=$(now)
	two="$two $(secs "$t0" "$t1")"
done
one_s=$(echo "$one" | tr ' ' '\n' | grep . | median)
two_s=$(echo "$two" | tr ' ' '\n' | grep . | median)
at a -q verify-log >/dev/null && at b -q verify-log >/dev/null ||
    { echo "bench: the ledger does not verify after the runs"; exit 1; }
issued=$(pg_sql nkca "SELECT count(*) FROM certs")

echo
awk -v n="$N" -v pg="$pg_s" -v sq="$sq_s" -v sk="$sk_s" 'BEGIN {
	printf "%-44s %8s %10s\n", "", "wall s", "certs/s"
	printf "%-44s %8.3f %10.1f\n", "nkhsm-sshca, " n " certificates, PostgreSQL", pg, n / pg
	printf "%-44s %8.3f %10.1f\n", "nkhsm-sshca, " n " certificates, SQLite", sq, n / sq
	printf "%-44s %8.3f %10.1f\n", "ssh-keygen -s -D, once per key", sk, n / sk
}'
awk -v r="$ROUNDS" -v n="$N" -v one="$one_s" -v two="$two_s" 'BEGIN {
	printf "%-44s %8.3f %10.1f\n", "one site, " r " batches of " n, one, r * n / one
	printf "%-44s %8.3f %10.1f\n", "two sites at once, " r " batches of " n " each", two, 2 * r * n / two
}'
echo
awk -v pg="$pg_s" -v sq="$sq_s" -v sk="$sk_s" -v one="$one_s" -v two="$two_s" \
    -v n="$N" -v r="$ROUNDS" 'BEGIN {
	printf "PostgreSQL batch against ssh-keygen -s -D per key: %.1fx (target >= 15x: %s)\n",
	    sk / pg, (sk / pg >= 15 ? "met" : "MISSED")
	printf "PostgreSQL batch against the same batch on SQLite: %.2fx the time (%.1f against %.1f certificates/s)\n",
	    pg / sq, n / pg, n / sq
	printf "two sites at once: %.2fx the throughput of one (target >= 1.6x: %s)\n",
	    (2 * r * n / two) / (r * n / one), ((2 * r * n / two) / (r * n / one) >= 1.6 ? "met" : "MISSED")
}'
echo "the ledger holds $issued certificates and verifies at both sites"
