#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# sshca-pg-sites.sh - two CA sites (two SoftHSM tokens holding the same CA
# key, two nkhsm-sshca processes) signing batches at the same time into one
# PostgreSQL ledger: every serial distinct, every certificate accepted by
# ssh-keygen -L as signed by the CA key, the two sites' transactions
# interleaved in one intact chain (verify-log at both, with the same head),
# list the same at both, every file the ledger's certificate byte for
# byte. A site whose transaction holds the log (waiting on a row another
# session holds) makes the other site wait its turn, and both go through.
# Two batches racing for the same -z serials: the database lets one
# through whole and refuses the other (status 9), with no file written.
. "${top_srcdir:-.}/tests/integration/common.sh"
. "$top_srcdir/tests/integration/pg-common.sh"

[ -x "$SSHCA" ] || { echo "nkhsm-sshca not built"; exit 99; }
[ -f "$FAULT_MODULE" ] || { echo "fault module not built (make check builds it)"; exit 99; }
command -v ssh-keygen >/dev/null 2>&1 || { echo "FAIL - ssh-keygen missing"; exit 99; }

ROUNDS=4	# batches per site
N=50		# keys per batch
pg_start
site a
site b
at a init --key "$(site_key a)" --ledger "$PGURL" > "$T/ca.pub" 2>/dev/null &&
    at b init --join --key "$(site_key b)" --ledger "$PGURL" >/dev/null 2>&1 ||
    { echo "init/join failed"; exit 99; }
CAFP=$(ssh-keygen -lf "$T/ca.pub" | awk '{print $2}')

# signer SITE: ROUNDS batches of N keys, each through the fault module with
# a little token latency (so that the sites' batches overlap).
for s in a b; do
	mkdir "$T/keys.$s"
	ssh-keygen -q -t ed25519 -N '' -f "$T/keys.$s/k" || exit 99
	for r in $(seq 1 $ROUNDS); do
		mkdir "$T/keys.$s/r$r"
		for i in $(seq 1 $N); do cp "$T/keys.$s/k.pub" "$T/keys.$s/r$r/k$i.pub"; done
	done
done
signer() {
	for r in $(seq 1 $ROUNDS); do
		NKFAULT_MODULE="$SOFTHSM_MODULE" NKFAULT_SIGN_DELAY_MS=2 \
		    at "$1" --module "$FAULT_MODULE" -q sign --user -I "site-$1" -n "$1" -V +1h \
		    "$T/keys.$1/r$r"/k*.pub || return 1
	done
}
signer a > "$T/a.out" 2>&1 &
pa=$!
signer b > "$T/b.out" 2>&1 &
pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
[ $ra -eq 0 ] && [ $rb -eq 0 ] && pass "two sites, $ROUNDS batches of $N each at the same time: all succeed" ||
    fail "signers: exit $ra ($(head -2 "$T/a.out")) and $rb ($(head -2 "$T/b.out"))"

total=$((2 * ROUNDS * N))
pg_sql nkca "SELECT serial FROM certs WHERE key_id LIKE 'site-%'" | sort > "$T/ledger.serials"
[ "$(wc -l < "$T/ledger.serials")" -eq $total ] && [ "$(sort -u "$T/ledger.serials" | wc -l)" -eq $total ] &&
    pass "$total certificates in the ledger, $total distinct serials" ||
    fail "$(wc -l < "$T/ledger.serials") certificates, $(sort -u "$T/ledger.serials" | wc -l) distinct serials"
grep -qx 0 "$T/ledger.serials" && fail "serial 0 issued" || pass "no serial 0"
# Each file: accepted by ssh-keygen -L, signed by the CA; the pairs
# (serial, certificate) of the files and of the ledger are the same.
bad=0
: > "$T/file.pairs"
for f in "$T"/keys.*/r*/k*-cert.pub; do
	ssh-keygen -L -f "$f" > "$T/L" 2>&1 && grep -q "Signing CA: ECDSA $CAFP" "$T/L" ||
	    bad=$((bad + 1))
	echo "$(awk '$1 == "Serial:" {print $2}' "$T/L") $(awk '{print $2}' "$f")" >> "$T/file.pairs"
done
[ $bad -eq 0 ] && [ "$(wc -l < "$T/file.pairs")" -eq $total ] &&
    pass "ssh-keygen -L: all $total certificate files parse, signed by the CA key" ||
    fail "$bad of $(wc -l < "$T/file.pairs") certificate files bad"
pg_sql nkca "SELECT serial || ' ' || translate(encode(cert, 'base64'), E'\n', '') FROM certs
    WHERE key_id LIKE 'site-%'" | sort > "$T/ledger.pairs"
sort "$T/file.pairs" | cmp -s - "$T/ledger.pairs" &&
    pass "every file is the ledger's certificate for its serial, byte for byte" ||
    fail "the files and the ledger's certificates differ"

# One chain: the sites' transactions interleaved in it (the test exercised
# concurrency), and it verifies from both sites with the same head.
switches=$(pg_sql nkca "SELECT substring(entry from ' key_id=(site-[ab]) ') FROM log
    WHERE entry LIKE '% event=issue %' ORDER BY seq" | uniq | wc -l)
[ "$switches" -gt 2 ] && pass "the two sites' batches are interleaved in the log ($switches runs)" ||
    fail "the batches did not interleave ($switches runs): the test proved nothing about concurrency"
[ "$(pg_sql nkca "SELECT count(*) = max(seq) AND count(DISTINCT prev) = count(*) FROM log")" = t ] &&
    pass "the log: entries 1..N, no two after the same entry" || fail "the log has gaps or a fork"
expect_exit 0 "verify-log at a" at a verify-log
ha=$(sed -n 's/.*head \([0-9a-f]*\): ok/\1/p' "$T/out")
expect_exit 0 "verify-log at b" at b verify-log
hb=$(sed -n 's/.*head \([0-9a-f]*\): ok/\1/p' "$T/out")
[ -n "$ha" ] && [ "$ha" = "$hb" ] && pass "both sites see the same head" || fail "heads differ: '$ha' '$hb'"
at a list > "$T/a.list" 2>&1
at b list > "$T/b.list" 2>&1
[ "$(wc -l < "$T/a.list")" -eq $total ] && cmp -s "$T/a.list" "$T/b.list" &&
    pass "list is the same at both sites ($total lines)" || fail "list differs between the sites"

# Writers wait their turn: site b's transaction holds the log (its insert
# waits on a row another session holds), site a's batch waits for it
# instead of appending after the same end of the log, and both go through
# once the row is let go, a's entries after b's.
ssh-keygen -q -t ed25519 -N '' -f "$T/turn" || exit 99
cp "$T/turn.pub" "$T/turn2.pub"
pg_hold 8100
at b -q sign --user -I turn-b -n t -V +1h -z 8100 "$T/turn.pub" > "$T/turnb.out" 2>&1 &
pb=$!
pg_waiting 1 || fail "site b never waited inside its transaction"
at a -q sign --user -I turn-a -n t -V +1h "$T/turn2.pub" > "$T/turna.out" 2>&1 &
pa=$!
pg_waiting 2 && pass "site a waits while site b's transaction holds the log" ||
    fail "site a did not wait for site b"
pg_release
wait $pb; rb=$?
wait $pa; ra=$?
[ $ra -eq 0 ] && [ $rb -eq 0 ] && pass "both went through once the row was let go" ||
    fail "waiting their turn: exit $ra ($(head -1 "$T/turna.out")) and $rb ($(head -1 "$T/turnb.out"))"
[ "$(pg_sql nkca "SELECT (SELECT log_seq FROM certs WHERE key_id = 'turn-a') >
    (SELECT log_seq FROM certs WHERE key_id = 'turn-b')")" = t ] &&
    pass "site a's entry follows site b's in the log" || fail "site a's entry is not after site b's"
expect_exit 0 "verify-log after waiting their turn" at a verify-log

# Two batches racing for the same -z serials: one whole, the other refused.
mkdir "$T/za" "$T/zb"
for i in $(seq 1 30); do
	cp "$T/keys.a/k.pub" "$T/za/k$i.pub"
	cp "$T/keys.b/k.pub" "$T/zb/k$i.pub"
done
NKFAULT_MODULE="$SOFTHSM_MODULE" NKFAULT_SIGN_DELAY_MS=2 at a --module "$FAULT_MODULE" -q \
    sign --user -I za -n z -V +1h -z +9000 "$T"/za/k*.pub > "$T/za.out" 2>&1 &
pa=$!
NKFAULT_MODULE="$SOFTHSM_MODULE" NKFAULT_SIGN_DELAY_MS=2 at b --module "$FAULT_MODULE" -q \
    sign --user -I zb -n z -V +1h -z +9000 "$T"/zb/k*.pub > "$T/zb.out" 2>&1 &
pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
if [ $ra -eq 0 ] && [ $rb -eq 9 ]; then win=za lose=zb
elif [ $ra -eq 9 ] && [ $rb -eq 0 ]; then win=zb lose=za
else win= lose=
fi
[ -n "$win" ] && pass "racing -z +9000: one site issued, the other got 9 ($win won)" ||
    fail "racing -z +9000: exit $ra and $rb ($(head -1 "$T/za.out") / $(head -1 "$T/zb.out"))"
[ "$(pg_sql nkca "SELECT count(*), count(DISTINCT serial), min(serial::bigint), max(serial::bigint),
    count(DISTINCT key_id) FROM certs WHERE serial::numeric BETWEEN 9000 AND 9029")" = "30|30|9000|9029|1" ] &&
    pass "serials 9000..9029 each issued once, all by one site" ||
    fail "serials 9000..9029: $(pg_sql nkca "SELECT key_id, serial FROM certs WHERE serial::numeric BETWEEN 9000 AND 9029 ORDER BY 2" | tr '\n' ' ')"
[ -n "$lose" ] && [ -z "$(ls "$T/$lose" | grep -- '-cert\.pub')" ] &&
    pass "the refused batch wrote no certificate" || fail "the refused batch wrote files"
[ -n "$lose" ] && grep -q 'was issued before' "$T/$lose.out" && pass "the refused batch says the serial was issued" ||
    fail "the refused batch's message: $(head -2 "$T/${lose:-za}.out")"
expect_exit 0 "verify-log after the race" at b verify-log

finish
