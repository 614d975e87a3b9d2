#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# sshca-ledger.sh - the nkhsm-sshca ledger and its KRL: ssh-keygen -Q on the
# published KRL agrees with the ledger after revocations by serial, key id and
# key; the KRL is replaced atomically and only after its check; two signers at
# once lose nothing; a signer killed with SIGKILL mid-batch leaves a ledger
# that verifies and holds every certificate on disk; and verify-log detects
# edited, deleted and truncated log entries, altered certificates, and a
# rewritten chain when given the head to expect.
. "${top_srcdir:-.}/tests/integration/common.sh"

FAULT=$FAULT_MODULE
[ -x "$SSHCA" ] || { echo "nkhsm-sshca not built"; exit 99; }
[ -f "$FAULT" ] || { echo "fault module not built (make check builds it)"; exit 99; }
command -v ssh-keygen >/dev/null 2>&1 || { echo "skip: ssh-keygen missing"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "skip: python3 missing"; exit 77; }

init_token ca
# scf ENV... -- ARGS: nkhsm-sshca through the fault module.
scf() {
	"$SSHCA" --config "$T/nkhsm.conf" --state "$T/state" \
	    --module "$FAULT" --pin-source env:NK_TEST_PIN "$@"
}
# sql DB STATEMENT: sqlite3, or python3's sqlite3 module.
sql() {
	if command -v sqlite3 >/dev/null 2>&1; then
		sqlite3 "$1" "$2"
	else
		python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for r in c.execute(sys.argv[2]): print("|".join("" if x is None else str(x) for x in r))
c.commit()' "$1" "$2"
	fi
}
. "$top_srcdir/tests/integration/sshca-checks.sh"
serial_of() { ssh-keygen -L -f "$1" 2>/dev/null | awk '$1 == "Serial:" {print $2}'; }
# cert_hex FILE: the certificate blob of a -cert.pub file, in hex.
cert_hex() { awk '{print $2}' "$1" | base64 -d | od -An -v -tx1 | tr -d ' \n'; }

sc init > "$T/ca.pub" 2>/dev/null || { echo "init failed"; exit 99; }

# --- KRL against the ledger -----------------------------------------------------
# k1: revoked by serial; k2, k3: key id "team" revoked; k4, k4b: the same key,
# revoked by --key; k5..k8 stay valid (k8 shares k1's key id "k1" but not
# its serial).
for i in 1 2 3 4 5 6 7; do
	ssh-keygen -q -t ed25519 -N '' -C "k$i" -f "$T/k$i" || exit 99
done
cp "$T/k4.pub" "$T/k4b.pub"
cp "$T/k1.pub" "$T/k8.pub"
for ki in k1:k1 k2:team k3:team k4:k4 k4b:k4b k5:k5 k6:k6 k7:k7 k8:k1; do
	sc sign --user -I "${ki#*:}" -n u -V +1h "$T/${ki%%:*}.pub" 2> "$T/err" ||
	    { echo "sign ${ki%%:*} failed"; exit 99; }
	# The head after the first issuance, to check later that it stays in the chain.
	[ -n "${HEAD1:-}" ] || HEAD1=$(sed -n 's/^log head \([0-9a-f]\{64\}\)$/\1/p' "$T/err")
done
S1=$(serial_of "$T/k1-cert.pub")
expect_exit 0 "revoke by serial" sc revoke "$S1"
expect_grep 'revoked (1 ledger entry)' "$T/err" "revoke by serial: one ledger entry"
expect_exit 0 "revoke --key-id team" sc revoke --key-id team
expect_grep 'revoked (3 ledger entries)' "$T/err" "revoke --key-id: 2 certificates + the id"
expect_exit 0 "revoke --key k4.pub" sc revoke --key "$T/k4.pub"
expect_grep 'revoked (3 ledger entries)' "$T/err" "revoke --key: 2 certificates + the key"
expect_exit 4 "revoke an unknown serial -> 4" sc revoke 12345
expect_exit 4 "revoke an already revoked serial -> 4" sc revoke "$S1"
expect_exit 2 "revoke 0 refused" sc revoke 0
expect_exit 2 "revoke with two selectors refused" sc revoke "$S1" --key-id team
expect_exit 0 "krl -o" sc krl -o "$T/pub.krl"
expect_grep 'KRL version 1, 5 serials, 1 key ids, 1 keys' "$T/err" "krl: 5 serials, 1 key id, 1 key"
bad=
for k in k1 k2 k3 k4 k4b k5 k6 k7 k8; do
	s=$(serial_of "$T/$k-cert.pub")
	q=$(ssh-keygen -Q -f "$T/pub.krl" "$T/$k-cert.pub" 2>&1)
	case "$q" in
	*": REVOKED") qv=true ;;
	*": ok") qv=false ;;
	*) qv="?($q)" ;;
	esac
	lv=$(ledger | grep "\"serial\":\"$s\"" | sed -n 's/.*"revoked":\(true\|false\)}.*/\1/p')
	case $k in k1 | k2 | k3 | k4 | k4b) want=true ;; *) want=false ;; esac
	[ "$qv" = "$want" ] && [ "$lv" = "$want" ] || bad="$bad $k(krl=$qv ledger=$lv want=$want)"
done
[ -z "$bad" ] && pass "ssh-keygen -Q and the ledger agree on all 9 certificates" ||
    fail "KRL/ledger disagreement:$bad"
ssh-keygen -Q -l -f "$T/pub.krl" > "$T/krl.list" 2>&1
ledger | grep '"revoked":true' | sed -n 's/.*"serial":"\([0-9]*\)".*/\1/p' | sort > "$T/rev.ledger"
sed -n 's/^serial: //p' "$T/krl.list" | sort > "$T/rev.krl"
[ -s "$T/rev.krl" ] && cmp -s "$T/rev.ledger" "$T/rev.krl" &&
    pass "the KRL's serials are exactly the ledger's revoked ones" ||
    fail "KRL serials ($(tr '\n' ' ' < "$T/rev.krl")) != ledger ($(tr '\n' ' ' < "$T/rev.ledger"))"
expect_grep '^id: team$' "$T/krl.list" "the KRL revokes key id team"
h4=$(awk '{print $2}' "$T/k4.pub" | base64 -d | sha256sum | awk '{print $1}')
expect_grep "^hash: SHA256:$h4\$" "$T/krl.list" "the KRL revokes k4's key by SHA-256"
expect_grep "^# CA key $(awk '{print $1}' "$T/ca.pub") $(ssh-keygen -lf "$T/ca.pub" | awk '{print $2}')\$" \
    "$T/krl.list" "the KRL's certificate section is for the CA key"
# Revoked for the future: no new certificate for key id team or k4's key
# (it would be born revoked), and the KRL revokes such certificates anyway.
cp "$T/k5.pub" "$T/k9.pub"
cp "$T/k4.pub" "$T/k10.pub"
n0=$(ledger_count)
expect_exit 12 "sign with the revoked key id team refused -> 12" sc sign --user -I team \
    -n u -V +1h "$T/k9.pub"
expect_grep "key id 'team'" "$T/err" "revoked key id: named in the message"
expect_exit 12 "sign for the revoked key k4 refused -> 12" sc sign --user -I k10 \
    -n u -V +1h "$T/k10.pub"
[ ! -e "$T/k9-cert.pub" ] && [ ! -e "$T/k10-cert.pub" ] && [ "$(ledger_count)" -eq "$n0" ] &&
    pass "revoked key id / key: no certificate, no ledger entry" ||
    fail "revoked key id / key: a certificate or ledger entry was made"
krlver() { ssh-keygen -Q -l -f "$1" 2>/dev/null | sed -n 's/^# KRL version //p'; }

# --- atomic publication; the old KRL stays when the new one cannot be published -----
cp "$T/pub.krl" "$T/krl.v1"
v1=$(krlver "$T/krl.v1")
ino1=$(stat -c %i "$T/pub.krl")
expect_exit 0 "krl -o again" sc krl -o "$T/pub.krl"
v2=$(krlver "$T/pub.krl")
[ -n "$v1" ] && [ -n "$v2" ] && [ "$v2" -gt "$v1" ] && pass "the KRL version increases ($v1 -> $v2)" ||
    fail "the KRL version does not increase ('$v1' -> '$v2')"
ino2=$(stat -c %i "$T/pub.krl")
cmp -s "$T/pub.krl" "$T/krl.v1" && fail "the second krl -o left the file unchanged" ||
    pass "the second krl -o replaced the file"
[ "$ino1" != "$ino2" ] && pass "replaced by rename (new inode), not rewritten in place" ||
    fail "the KRL was rewritten in place (same inode $ino1)"
bad=
for k in k1 k2 k3 k4 k4b; do
	ssh-keygen -Q -f "$T/pub.krl" "$T/$k-cert.pub" 2>&1 | grep -q ': REVOKED$' || bad="$bad $k"
done
for k in k5 k6 k7 k8; do
	ssh-keygen -Q -f "$T/pub.krl" "$T/$k-cert.pub" 2>&1 | grep -q ': ok$' || bad="$bad $k"
done
[ -z "$bad" ] && pass "the new KRL: the 5 revoked REVOKED, the 4 others ok" ||
    fail "the new KRL is wrong for:$bad"
cp "$T/pub.krl" "$T/krl.v2"
left=$(ls -a "$T" | grep -c '^pub\.krl\.')
[ "$left" -eq 0 ] && pass "no temporary files left next to the KRL" ||
    fail "$left temporary files left next to the KRL"
ls -d "$T"/state/krlcheck.* >/dev/null 2>&1 && fail "krlcheck scratch directory left in the state" ||
    pass "no krlcheck scratch directory left in the state"
# (a) A ledger ssh-keygen cannot agree with: a revoked certificate's blob
# corrupted in a copy of the state. krl must fail and keep the old file.
cp -a "$T/state" "$T/state.badcert"
sql "$T/state.badcert/ledger.db" "UPDATE certs SET cert=X'0000000b7373682d6661756c7479' WHERE serial='$S1';"
expect_exit 1 "krl with a ledger ssh-keygen rejects -> 1" sc --state "$T/state.badcert" krl -o "$T/pub.krl"
expect_grep 'old KRL is left in place' "$T/err" "failed check: the message says the old KRL stays"
cmp -s "$T/pub.krl" "$T/krl.v2" && pass "failed check: the published KRL is unchanged" ||
    fail "failed check: the published KRL changed"
[ "$(ls -a "$T" | grep -c '^pub\.krl\.')" -eq 0 ] && pass "failed check: no temporary file left" ||
    fail "failed check: temporary files left"
ls -d "$T"/state.badcert/krlcheck.* >/dev/null 2>&1 &&
    fail "failed check: krlcheck scratch directory left" || pass "failed check: scratch directory removed"
# (b) An output directory the CA cannot write (run as nobody: root writes anywhere).
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1 && getent passwd nobody >/dev/null; then
	chmod 755 "$T"
	cp -a "$T/state" "$T/state.nobody"
	chown -R nobody "$T/state.nobody"
	mkdir "$T/ro"
	cp "$T/krl.v2" "$T/ro/pub.krl"
	chmod 755 "$T/ro"
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$SSHCA" --config "$T/nkhsm.conf" \
	    --state "$T/state.nobody" krl -o "$T/ro/pub.krl" > "$T/out" 2> "$T/err"
	rc=$?
	[ $rc -eq 1 ] && pass "krl into an unwritable directory -> 1" ||
	    fail "krl into an unwritable directory: exit $rc, wanted 1 ($(head -1 "$T/err"))"
	expect_grep 'cannot write' "$T/err" "unwritable directory: 'cannot write' in the message"
	cmp -s "$T/ro/pub.krl" "$T/krl.v2" && pass "unwritable directory: the old KRL is intact" ||
	    fail "unwritable directory: the old KRL changed"
	# The same user can publish into a directory it owns.
	mkdir "$T/rw" && chown nobody "$T/rw"
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$SSHCA" --config "$T/nkhsm.conf" \
	    --state "$T/state.nobody" krl -o "$T/rw/pub.krl" > "$T/out" 2> "$T/err"
	rc=$?
	[ $rc -eq 0 ] && ssh-keygen -Q -l -f "$T/rw/pub.krl" >/dev/null 2>&1 &&
	    pass "the same CA state publishes into a writable directory" ||
	    fail "krl as nobody into its own directory: exit $rc ($(head -1 "$T/err"))"
else
	echo "note: not root or no setpriv/nobody: unwritable-directory case skipped"
fi

# --- two signers at once ------------------------------------------------------------
mkdir "$T/ca1" "$T/ca2"
for i in $(seq 1 40); do
	cp "$T/k5.pub" "$T/ca1/a$i.pub"
	cp "$T/k6.pub" "$T/ca2/b$i.pub"
done
n0=$(ledger_count)
# A little token latency so that the two batches overlap.
NKFAULT_MODULE="$SOFTHSM_MODULE" NKFAULT_SIGN_DELAY_MS=5 \
    scf -q sign --user -I para-a -n a -V +1h "$T"/ca1/a*.pub > "$T/pa.out" 2>&1 &
pa=$!
# SoftHSM rewrites token.object at every C_Login: a process that reads it at
# that instant finds no token. Start the second signer after the first logged in.
sleep 0.1
NKFAULT_MODULE="$SOFTHSM_MODULE" NKFAULT_SIGN_DELAY_MS=5 \
    scf -q sign --user -I para-b -n b -V +1h "$T"/ca2/b*.pub > "$T/pb.out" 2>&1 &
pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
[ $ra -eq 0 ] && [ $rb -eq 0 ] && pass "two parallel batches of 40 both succeed" ||
    fail "parallel batches: exit $ra and $rb ($(head -1 "$T/pa.out") / $(head -1 "$T/pb.out"))"
ledger | grep '"key_id":"para-[ab]"' | sed -n 's/.*"serial":"\([0-9]*\)".*/\1/p' | sort -u > "$T/para.ledger"
[ "$(wc -l < "$T/para.ledger")" -eq 80 ] && [ "$(ledger_count)" -eq $((n0 + 80)) ] &&
    pass "80 distinct serials in the ledger" ||
    fail "parallel: $(wc -l < "$T/para.ledger") distinct serials, ledger grew by $(( $(ledger_count) - n0 ))"
: > "$T/para.files"
for f in "$T"/ca1/*-cert.pub "$T"/ca2/*-cert.pub; do serial_of "$f" >> "$T/para.files"; done
sort -u "$T/para.files" -o "$T/para.files"
cmp -s "$T/para.files" "$T/para.ledger" && pass "parallel: the 80 files are the ledger's 80 certificates" ||
    fail "parallel: certificate files and ledger differ"
expect_exit 0 "parallel: verify-log ok" sc verify-log

# --- killed in the middle of a batch ----------------------------------------------------
# crash_checks DIR KEYID DESC: after the signer died, the ledger verifies and
# holds every certificate on disk byte for byte; no partial certificate file;
# only keys, certificates and KEY-cert.pub.tmp* files. Sets $nfiles, $nled.
crash_checks() {
	dir=$1 kid=$2 d=$3
	nfiles=$(ls "$dir" | grep -c -- '-cert\.pub$')
	nled=$(ledger | grep -c "\"key_id\":\"$kid\"")
	echo "# $d: $nled certificates in the ledger, $nfiles files written"
	expect_exit 0 "$d: verify-log ok" sc verify-log
	bad=0
	for f in "$dir"/*-cert.pub; do
		[ -e "$f" ] || continue
		s=$(serial_of "$f")
		lh=$(sql "$T/state/ledger.db" "SELECT lower(hex(cert)) FROM certs WHERE family='ssh' AND serial='$s' AND key_id='$kid';")
		if [ -z "$s" ] || [ "$lh" != "$(cert_hex "$f")" ]; then
			bad=$((bad + 1))
			echo "  $f: serial '$s' not in the ledger with these bytes"
		fi
	done
	[ "$bad" -eq 0 ] &&
	    pass "$d: every certificate on disk parses and is in the ledger, byte for byte" ||
	    fail "$d: $bad certificates on disk not in the ledger"
	[ "$nled" -ge "$nfiles" ] && pass "$d: no file without its ledger entry" ||
	    fail "$d: $nfiles files but $nled ledger entries"
	odd=$(ls -a "$dir" | grep -v -e '^\.\.\?$' -e '^c[0-9]*\.pub$' -e '^c[0-9]*-cert\.pub$' \
	    -e '^c[0-9]*-cert\.pub\.tmp' | wc -l)
	[ "$odd" -eq 0 ] && pass "$d: only keys, certificates and KEY-cert.pub.tmp* files" ||
	    fail "$d: unexpected files: $(ls -a "$dir" | grep -v -e '^c[0-9]*\.pub$' -e '^c[0-9]*-cert\.pub$' | tr '\n' ' ')"
}
# (1) Deterministic: the process dies by SIGKILL inside its 300th C_Sign, so
# no certificate can be between its ledger commit and its file.
mkdir "$T/crash1"
for i in $(seq 1 600); do cp "$T/k7.pub" "$T/crash1/c$i.pub"; done
env NKFAULT_MODULE="$SOFTHSM_MODULE" NKFAULT_CRASH_FN=C_Sign NKFAULT_CRASH_FN_AT=300 \
    NKFAULT_CRASH_SIGNAL=KILL "$SSHCA" --config "$T/nkhsm.conf" --state "$T/state" \
    --module "$FAULT" --pin-source env:NK_TEST_PIN -q sign --user -I crash1 -n c -V +1h \
    "$T"/crash1/c*.pub > "$T/crash.out" 2>&1
rc=$?
[ $rc -eq 137 ] && pass "killed inside the 300th C_Sign (exit 137)" ||
    fail "the signer was not killed in C_Sign: exit $rc ($(head -1 "$T/crash.out"))"
crash_checks "$T/crash1" crash1 "SIGKILL in C_Sign 300"
[ "$nled" -eq "$nfiles" ] && [ "$nled" -lt 300 ] &&
    pass "SIGKILL in C_Sign: as many files as ledger entries ($nled), none past the crash" ||
    fail "SIGKILL in C_Sign: $nled ledger entries, $nfiles files"
# (2) kill -9 from outside after 0.5-1 s, wherever the signer is.
mkdir "$T/crash2"
for i in $(seq 1 600); do cp "$T/k7.pub" "$T/crash2/c$i.pub"; done
env NKFAULT_MODULE="$SOFTHSM_MODULE" NKFAULT_SIGN_DELAY_MS=1 "$SSHCA" \
    --config "$T/nkhsm.conf" --state "$T/state" --module "$FAULT" \
    --pin-source env:NK_TEST_PIN -q sign --user -I crash2 -n c -V +1h \
    "$T"/crash2/c*.pub > "$T/crash.out" 2>&1 &
pc=$!	# env execs nkhsm-sshca: this is its pid
sleep 0.$((5 + $(od -An -N1 -tu1 /dev/urandom | tr -d ' ') % 5))
kill -9 $pc 2>/dev/null
wait $pc 2>/dev/null
rc=$?
[ $rc -eq 137 ] || echo "# the batch ended before the kill (exit $rc)"
crash_checks "$T/crash2" crash2 "kill -9 after 0.5-1 s"
expect_exit 0 "after the kills: the ledger takes new certificates" sc sign --user -I crash3 \
    -n c -V +1h "$T/crash2/c600.pub"
expect_exit 0 "after the kills and more issuance: verify-log ok" sc verify-log

# --- tampering ---------------------------------------------------------------------------
expect_exit 0 "sign (for the log head)" sc sign --user -I last -n last -V +1h "$T/k5.pub"
HEAD=$(sed -n 's/^log head \([0-9a-f]\{64\}\)$/\1/p' "$T/err")
[ -n "$HEAD" ] || fail "sign printed no 'log head HASH'"
expect_exit 0 "verify-log --head (the head sign printed) -> 0" sc verify-log --head "$HEAD"
expect_grep "head $HEAD: ok" "$T/out" "verify-log prints that head"
expect_exit 13 "verify-log --head WRONG -> 13" sc verify-log --head \
    0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
expect_grep 'is not an entry of this log' "$T/err" "--head WRONG: not an entry of this log"
[ -n "${HEAD1:-}" ] || fail "the first sign printed no 'log head HASH'"
expect_exit 0 "verify-log --head (a head recorded earlier, entry 1) -> 0" sc verify-log \
    --head "${HEAD1:-none}"
# tamper NAME SQL: a copy of the state with SQL applied; verify-log on it in $T/out, $T/err.
tamper() {
	rm -rf "$T/t.$1"
	cp -a "$T/state" "$T/t.$1"
	rm -f "$T/t.$1/ledger.db-wal" "$T/t.$1/ledger.db-shm"
	sql "$T/t.$1/ledger.db" "$2" || fail "tamper $1: sql failed"
	"$SSHCA" --config "$T/nkhsm.conf" --state "$T/t.$1" verify-log > "$T/out" 2> "$T/err"
}
# Copy a checkpointed ledger (no WAL) so that cp -a takes it whole.
sql "$T/state/ledger.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
expect_exit 0 "untouched copy verifies" tamper none "SELECT 1;"
LAST=$(sql "$T/state/ledger.db" "SELECT max(seq) FROM log;")
expect_exit 13 "(a) a log entry's text edited -> 13" tamper edit \
    "UPDATE log SET entry=entry || 'x' WHERE seq=5;"
expect_grep 'log entry 5 was altered' "$T/err" "(a) names entry 5, altered"
expect_exit 13 "(b) a middle log row deleted -> 13" tamper del "DELETE FROM log WHERE seq=5;"
expect_grep 'log entry 5 is missing' "$T/err" "(b) names entry 5, missing"
expect_exit 13 "(c) the last log row and its certificate deleted -> 13" tamper trunc \
    "DELETE FROM certs WHERE log_seq=$LAST; DELETE FROM log WHERE seq=$LAST;"
expect_grep 'entries removed' "$T/err" "(c) the head no longer matches: entries removed"
expect_exit 13 "(d) a certificate's bytes changed -> 13" tamper cert \
    "UPDATE certs SET cert=substr(cert,1,40) || X'ff' || substr(cert,42) WHERE serial='$S1';"
expect_grep "certificate ssh serial $S1: cert differs from its log entry" "$T/err" \
    "(d) names the certificate and the column"
expect_exit 13 "(e) a certificate row deleted -> 13" tamper certdel "DELETE FROM certs WHERE serial='$S1';"
expect_exit 13 "(f) a certificate row's serial changed -> 13" tamper serial \
    "UPDATE certs SET serial='4242' WHERE serial='$S1';"
# A serial shortened to a prefix of the logged one is a different serial too.
expect_exit 13 "(g) a certificate row's serial truncated (a prefix of the logged one) -> 13" \
    tamper serialprefix "UPDATE certs SET serial=substr(serial,1,length(serial)-1) WHERE serial='$S1';"
expect_exit 13 "(h) log_head in meta changed -> 13" tamper meta \
    "UPDATE meta SET v='0000000000000000000000000000000000000000000000000000000000000001' WHERE k='log_head';"
expect_exit 13 "(i) a revoked certificate un-revoked in the database -> 13" tamper unrevoke \
    "UPDATE certs SET revoked_at=NULL WHERE serial='$S1';"
expect_grep "serial $S1 is valid in the ledger but revoked by the log" "$T/err" "(i) names the certificate"
S5=$(serial_of "$T/k5-cert.pub")
expect_exit 13 "(j) a certificate revoked in the database only -> 13" tamper sqlrevoke \
    "UPDATE certs SET revoked_at=1 WHERE serial='$S5';"
expect_exit 13 "(k) a key id revocation deleted -> 13" tamper delrev \
    "DELETE FROM revocations WHERE what='key_id';"
expect_exit 13 "(l) a key id revocation added without the log -> 13" tamper addrev \
    "INSERT INTO revocations(what,value,subject_key,at,reason) VALUES('key_id','k5',NULL,1,'');"
expect_exit 13 "(m) a certificate's key id changed -> 13" tamper keyid \
    "UPDATE certs SET key_id='other' WHERE serial='$S5';"
# (n) The whole chain rewritten consistently from k5's issue entry on (its
# principals changed in the entry and in the row alike): only a head
# recorded elsewhere can tell.
rm -rf "$T/t.rewrite"
cp -a "$T/state" "$T/t.rewrite"
python3 - "$T/t.rewrite/ledger.db" "$S5" <<'EOF2'
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
(at,) = db.execute("SELECT log_seq FROM certs WHERE serial=?", (sys.argv[2],)).fetchone()
rows = db.execute("SELECT seq, entry, prev, hash FROM log ORDER BY seq").fetchall()
prev = None
for seq, entry, p, h in rows:
    if prev is None:
        prev = p
    if seq == at:
        entry = entry + "x"     # the last field (principals) changes
    h = hashlib.sha256((prev + "\n" + entry).encode()).hexdigest()
    db.execute("UPDATE log SET entry=?, prev=?, hash=? WHERE seq=?", (entry, prev, h, seq))
    prev = h
db.execute("UPDATE certs SET principals=principals || 'x' WHERE serial=?", (sys.argv[2],))
db.execute("UPDATE meta SET v=? WHERE k='log_head'", (prev,))
db.commit()
EOF2
"$SSHCA" --config "$T/nkhsm.conf" --state "$T/t.rewrite" verify-log > "$T/out" 2> "$T/err"
rc=$?
[ $rc -eq 0 ] && pass "(n) a consistently rewritten chain verifies on its own (as documented)" ||
    fail "(n) rewritten chain: exit $rc ($(cat "$T/err"))"
expect_exit 13 "(n) ... but not against the head sign printed -> 13" \
    "$SSHCA" --config "$T/nkhsm.conf" --state "$T/t.rewrite" verify-log --head "$HEAD"
expect_exit 0 "(n) ... while a head from before the rewrite (the first issuance) is still in it" \
    "$SSHCA" --config "$T/nkhsm.conf" --state "$T/t.rewrite" verify-log --head "${HEAD1:-none}"
expect_exit 0 "the real ledger still verifies" sc verify-log --head "$HEAD"

finish
