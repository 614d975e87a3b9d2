#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# sshca-pg-faults.sh - a PostgreSQL ledger that goes away, and sites that
# die, in the middle of a batch. A batch of 300 (two chunks: 256 recorded
# and written, then 44) is held in its 280th signature (nkfault's PAUSE)
# while the server is stopped, or while its connection is cut
# (pg_terminate_backend): it ends with status 15 and a message, the second
# chunk is neither recorded nor written, every file is in the ledger byte
# for byte, verify-log holds at both sites once the server is back, and
# the same command then succeeds. A site killed with SIGKILL while it holds
# the log (its insert waiting on a row another session holds) leaves no
# trace and does not hold the other site up; sites killed inside a
# signature and at a random moment, while the other site signs, leave a
# ledger that verifies at both sites and holds every file they wrote.
. "${top_srcdir:-.}/tests/integration/common.sh"
. "$top_srcdir/tests/integration/pg-common.sh"

[ -x "$SSHCA" ] || { echo "nkhsm-sshca not built"; exit 99; }
[ -f "$FAULT_MODULE" ] || { echo "fault module not built (make check builds it)"; exit 99; }
command -v ssh-keygen >/dev/null 2>&1 || { echo "FAIL - ssh-keygen missing"; exit 99; }

pg_start
site a
site b
at a init --key "$(site_key a)" --ledger "$PGURL" > "$T/ca.pub" 2>/dev/null &&
    at b init --join --key "$(site_key b)" --ledger "$PGURL" >/dev/null 2>&1 ||
    { echo "init/join failed"; exit 99; }
ssh-keygen -q -t ed25519 -N '' -f "$T/k" || exit 99

# batch DIR N: N copies of the key in DIR.
batch() {
	mkdir -p "$1"
	for i in $(seq 1 "$2"); do cp "$T/k.pub" "$1/c$i.pub"; done
}
count() { pg_sql nkca "SELECT count(*) FROM certs WHERE key_id='$1'"; }
files() { ls "$1" | grep -c -- '-cert\.pub$'; }
# wait_for PATTERN FILE: up to 60 s (stretched under valgrind).
wait_for() {
	_n=0
	while ! grep -q -- "$1" "$2" 2>/dev/null; do
		_n=$((_n + 1))
		[ $_n -gt $((600 * SLOW)) ] && return 1
		sleep 0.1
	done
}
# on_disk DIR KEYID DESC [TMP_OK]: every certificate file in DIR is the
# ledger's certificate for its serial, byte for byte, under KEYID; no
# KEY-cert.pub.tmp* file is left (unless TMP_OK: a process killed while
# writing leaves its temporary files, never a partial certificate).
on_disk() {
	: > "$T/pairs.files"
	for f in "$1"/*-cert.pub; do
		[ -e "$f" ] || continue
		echo "$(ssh-keygen -L -f "$f" 2>/dev/null | awk '$1 == "Serial:" {print $2}') $(awk '{print $2}' "$f")"
	done | sort > "$T/pairs.files"
	pg_sql nkca "SELECT serial || ' ' || translate(encode(cert, 'base64'), E'\\n', '') FROM certs
	    WHERE key_id='$2'" | sort > "$T/pairs.ledger"
	if [ -s "$T/pairs.files" ] && [ -z "$(comm -23 "$T/pairs.files" "$T/pairs.ledger")" ]; then
		pass "$3: every certificate file is in the ledger, byte for byte"
	else
		fail "$3: $(comm -23 "$T/pairs.files" "$T/pairs.ledger" | wc -l) files not in the ledger"
	fi
	[ -n "${4:-}" ] && return 0
	ls "$1" | grep -q -- '-cert\.pub\.tmp' &&
	    fail "$3: temporary certificate files left" || pass "$3: no temporary file left"
}
both_verify() {
	expect_exit 0 "$1: verify-log at a" at a verify-log
	expect_exit 0 "$1: verify-log at b" at b verify-log
}

# held KEYID: sign 300 keys in $T/KEYID at site a, held in signature 280
# (the first chunk of 256 recorded and written); sets $held to its pid.
held() {
	batch "$T/$1" 300
	rm -f "$T/go.$1" "$T/$1.log"
	NKFAULT_MODULE="$SOFTHSM_MODULE" NKFAULT_PAUSE_FN=C_Sign NKFAULT_PAUSE_FN_AT=280 \
	    NKFAULT_PAUSE_FILE="$T/go.$1" NKFAULT_LOG="$T/$1.log" \
	    at a --module "$FAULT_MODULE" -q sign --user -I "$1" -n s -V +1h "$T/$1"/c*[0-9].pub \
	    > "$T/$1.out" 2>&1 &
	held=$!
	wait_for ' C_Sign pause$' "$T/$1.log" || fail "$1: the signer never reached signature 280"
	[ "$(count "$1")" -eq 256 ] && [ "$(files "$T/$1")" -eq 256 ] &&
	    pass "$1: held in signature 280, the first chunk (256) recorded and written" ||
	    fail "$1: held with $(count "$1") recorded and $(files "$T/$1") written"
}
# after KEYID WHAT: the held batch let go after WHAT; its end and the ledger.
after() {
	touch "$T/go.$1"
	wait $held
	rc=$?
	[ $rc -eq 15 ] && pass "$2: the batch ends with status 15" ||
	    fail "$2: exit $rc, wanted 15 ($(head -2 "$T/$1.out"))"
	grep -q 'ledger: .*the database cannot be reached' "$T/$1.out" &&
	    pass "$2: the message says the database cannot be reached" ||
	    fail "$2: the message: $(head -2 "$T/$1.out")"
	[ "$(files "$T/$1")" -eq 256 ] && pass "$2: the second chunk was not written" ||
	    fail "$2: $(files "$T/$1") files (256 wanted)"
}

# --- the server stopped in the middle of a batch ------------------------------------
held stop
pg_down || fail "pg_ctl stop failed"
after stop "server stopped"
expect_exit 15 "server stopped: list -> 15" at b list
pg_up || exit 99
[ "$(count stop)" -eq 256 ] && pass "server back: 256 certificates of the batch, the second chunk not recorded" ||
    fail "server back: $(count stop) recorded"
on_disk "$T/stop" stop "server stopped"
both_verify "server stopped"
expect_exit 0 "server back: the same command succeeds" at a -q sign --user -I stop -n s -V +1h "$T/stop"/c*[0-9].pub
[ "$(files "$T/stop")" -eq 300 ] && [ "$(count stop)" -eq 556 ] &&
    pass "the retry: 300 files, 256 + 300 in the ledger" ||
    fail "the retry: $(files "$T/stop") files, $(count stop) in the ledger"
on_disk "$T/stop" stop "the retry"

# --- the connection cut in the middle of a batch --------------------------------------
held cut
n=$(pg_sql postgres "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
    WHERE application_name = 'nkhsm-sshca'")
[ "$n" -eq 1 ] && pass "connection cut: pg_terminate_backend ended the signer's session" ||
    fail "connection cut: $n sessions ended"
after cut "connection cut"
[ "$(count cut)" -eq 256 ] && pass "connection cut: the second chunk not recorded" ||
    fail "connection cut: $(count cut) recorded"
on_disk "$T/cut" cut "connection cut"
both_verify "connection cut"
expect_exit 0 "connection cut: the same command succeeds" at a -q sign --user -I cut -n s -V +1h "$T/cut"/c*[0-9].pub

# --- killed while holding the log ------------------------------------------------------
# Another session holds serial 8000 (uncommitted): site a's transaction
# takes the log's lock, then waits on that row inside it. Kill it there.
pg_hold 8000
batch "$T/lock" 1
at_bg a -q sign --user -I lock -n s -V +1h -z 8000 "$T/lock/c1.pub" > "$T/lock.out" 2>&1
signer=$AT_PID
holds="SELECT count(*) FROM pg_locks l JOIN pg_stat_activity s USING (pid)
    WHERE s.application_name = 'nkhsm-sshca' AND l.relation = 'log'::regclass
    AND l.mode = 'ExclusiveLock' AND l.granted AND s.wait_event_type = 'Lock'"
_n=0
while [ "$(pg_sql nkca "$holds")" != 1 ] && [ $_n -lt $((300 * SLOW)) ]; do
	sleep 0.1
	_n=$((_n + 1))
done
[ "$(pg_sql nkca "$holds")" = 1 ] && pass "site a holds the log's lock, waiting inside its transaction" ||
    fail "site a never held the log's lock"
kill -9 $signer 2>/dev/null
wait $signer 2>/dev/null
batch "$T/after" 20
t0=$(date +%s)
expect_exit 0 "site a killed holding the log: site b signs a batch meanwhile" \
    at b -q sign --user -I after -n s -V +1h "$T/after"/c*.pub
# The server notices the dead client within seconds (its check every 5 s),
# not at the lock timeout (120 s).
[ $(($(date +%s) - t0)) -lt $((30 * SLOW)) ] &&
    pass "the dead site's lock was freed within seconds ($(($(date +%s) - t0)) s)" ||
    fail "site b waited $(($(date +%s) - t0)) s for the dead site's lock"
pg_release
[ "$(count lock)" -eq 0 ] && [ ! -e "$T/lock/c1-cert.pub" ] &&
    [ "$(pg_sql nkca "SELECT count(*) FROM certs WHERE serial = '8000'")" -eq 0 ] &&
    pass "killed holding the log: nothing of its transaction remains, no file" ||
    fail "killed holding the log: something of it remains"
on_disk "$T/after" after "site b after the kill"
both_verify "killed holding the log"

# --- killed in a batch while the other site signs ---------------------------------------
batch "$T/crash" 600
batch "$T/side1" 200
NKFAULT_MODULE="$SOFTHSM_MODULE" NKFAULT_CRASH_FN=C_Sign NKFAULT_CRASH_FN_AT=300 \
    NKFAULT_CRASH_SIGNAL=KILL at_bg a --module "$FAULT_MODULE" -q sign --user -I crash -n c \
    -V +1h "$T/crash"/c*.pub > "$T/crash.out" 2>&1
pa=$AT_PID
NKFAULT_MODULE="$SOFTHSM_MODULE" NKFAULT_SIGN_DELAY_MS=1 at b --module "$FAULT_MODULE" -q \
    sign --user -I side1 -n c -V +1h "$T/side1"/c*.pub > "$T/side1.out" 2>&1 &
pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
[ $ra -eq 137 ] && [ $rb -eq 0 ] && pass "site a killed in signature 300, site b's batch succeeds" ||
    fail "crash: exit $ra (137 wanted) and $rb ($(head -1 "$T/side1.out"))"
[ "$(count crash)" -eq 256 ] && [ "$(files "$T/crash")" -eq 256 ] &&
    pass "killed in signature 300: the first chunk recorded and written, no more" ||
    fail "killed in signature 300: $(count crash) recorded, $(files "$T/crash") written"
on_disk "$T/crash" crash "killed in signature 300"
on_disk "$T/side1" side1 "the other site meanwhile"
both_verify "killed in signature 300"

batch "$T/rand" 600
batch "$T/side2" 300
NKFAULT_MODULE="$SOFTHSM_MODULE" NKFAULT_SIGN_DELAY_MS=1 at_bg a --module "$FAULT_MODULE" -q \
    sign --user -I rand -n c -V +1h "$T/rand"/c*.pub > "$T/rand.out" 2>&1
pa=$AT_PID
NKFAULT_MODULE="$SOFTHSM_MODULE" NKFAULT_SIGN_DELAY_MS=1 at b --module "$FAULT_MODULE" -q \
    sign --user -I side2 -n c -V +1h "$T/side2"/c*.pub > "$T/side2.out" 2>&1 &
pb=$!
sleep 0.$((5 + $(od -An -N1 -tu1 /dev/urandom | tr -d ' ') % 5))
kill -9 $pa 2>/dev/null
wait $pa
ra=$?
wait $pb
rb=$?
[ $ra -eq 137 ] || echo "# site a's batch ended before the kill (exit $ra)"
[ $rb -eq 0 ] && pass "kill -9 of site a at a random moment: site b's batch succeeds" ||
    fail "site b: exit $rb ($(head -1 "$T/side2.out"))"
echo "# killed at random: $(count rand) recorded, $(files "$T/rand") written"
[ "$(count rand)" -ge "$(files "$T/rand")" ] && pass "killed at random: no file without its ledger entry" ||
    fail "killed at random: $(files "$T/rand") files, $(count rand) recorded"
[ "$(files "$T/rand")" -eq 0 ] || on_disk "$T/rand" rand "killed at random" tmp-ok
both_verify "killed at random"
expect_exit 0 "after the kills, site a signs again" at a -q sign --user -I again -n c -V +1h "$T/k.pub"
both_verify "at the end"

finish
