#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# sshca-migrate.sh - a ledger made by the previous version (log format 1,
# tests/integration/ledger-v1.sql, dumped from a real run of it) is never
# taken as verified: verify-log, list, revoke and krl refuse it with status
# 2 and say to run migrate-ledger. migrate-ledger first checks every field
# the old entries recorded and refuses, naming the serial and the field, a
# ledger whose principals, validity or subject key fingerprint were
# changed; a sound one gets a format entry and one carry entry per
# certificate, revocation and setting, then verifies, keeps every record
# as it was, and detects later changes. It needs no token.
. "${top_srcdir:-.}/tests/integration/common.sh"

[ -x "$SSHCA" ] || { echo "nkhsm-sshca not built"; exit 99; }
command -v python3 >/dev/null 2>&1 || { echo "skip: python3 missing"; exit 77; }
FIXTURE="$top_srcdir/tests/integration/ledger-v1.sql"

# old DIR [SQL]: a state directory holding the old ledger, SQL applied.
old() {
	rm -rf "$1"
	mkdir -m 700 "$1"
	python3 - "$FIXTURE" "$1/ledger.db" "${2:-}" <<'EOF' || exit 99
import sqlite3, sys
db = sqlite3.connect(sys.argv[2])
db.executescript(open(sys.argv[1]).read())
if sys.argv[3]:
    db.executescript(sys.argv[3])
db.commit()
EOF
}
# dump DIR: every record but log_seq (which a migration moves).
dump() {
	python3 - "$1/ledger.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for r in db.execute("SELECT * FROM certs ORDER BY family, serial"):
    print("certs", [x.hex() if isinstance(x, bytes) else x for x in r[:11] + r[12:]])
for r in db.execute("SELECT * FROM revocations ORDER BY what, value"):
    print("rev", r)
for r in db.execute("SELECT * FROM meta WHERE k NOT LIKE 'log%' ORDER BY k"):
    print("meta", r)
EOF
}
s() {
	$VG "$SSHCA" --config "$T/nkhsm.conf" --state "$@"
	_rc=$?
	vg_check "nkhsm-sshca $*"
	return $_rc
}

old "$T/v1"
for c in verify-log list "krl -o $T/k.krl" "revoke --key-id someone"; do
	# shellcheck disable=SC2086
	expect_exit 2 "old ledger: $c refused -> 2" s "$T/v1" $c
	expect_grep "older nkhsm-sshca.*migrate-ledger" "$T/err" "old ledger: $c says to migrate"
done
ssh-keygen -q -t ed25519 -N '' -f "$T/k" || exit 99
expect_exit 2 "old ledger: sign refused before the token -> 2" s "$T/v1" \
    --module "$SOFTHSM_MODULE" sign --user -I x -n x -V +1h "$T/k.pub"
expect_grep "older nkhsm-sshca" "$T/err" "old ledger: sign says why"

# Changed before the migration: refused, nothing migrated.
SB=9518427045078928904	# bob's certificate in the fixture
for t in "principals:UPDATE certs SET principals='root,admin' WHERE serial='$SB'" \
    "valid_before:UPDATE certs SET valid_before=4102444800 WHERE serial='$SB'" \
    "subject_fp:UPDATE certs SET subject_fp='SHA256:x' WHERE serial='$SB'" \
    "key_id:UPDATE certs SET key_id='root' WHERE serial='$SB'"; do
	col=${t%%:*}
	old "$T/bad" "${t#*:}"
	expect_exit 13 "old ledger with $col changed: migrate-ledger -> 13" s "$T/bad" migrate-ledger
	expect_grep "certificate ssh serial $SB: $col differs" "$T/err" \
	    "$col changed: the serial and the field are named"
	expect_exit 2 "$col changed: still format 1 (verify-log refuses)" s "$T/bad" verify-log
done
old "$T/bad" "UPDATE certs SET revoked_at=NULL WHERE serial='15837090873418764886'"
expect_exit 13 "old ledger with a revocation undone: migrate-ledger -> 13" s "$T/bad" migrate-ledger
old "$T/bad" "UPDATE meta SET v='0000000000000000000000000000000000000000000000000000000000000000' WHERE k='log_head'"
expect_exit 13 "old ledger with its head changed: migrate-ledger -> 13" s "$T/bad" migrate-ledger
old "$T/bad"
expect_exit 13 "migrate-ledger --head of another chain -> 13" s "$T/bad" migrate-ledger \
    --head 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

# A sound old ledger.
dump "$T/v1" > "$T/before"
[ "$(grep -c '^certs' "$T/before")" -eq 7 ] || fail "the fixture should hold 7 certificates"
expect_exit 0 "migrate-ledger with the old head recorded -> 0" s "$T/v1" migrate-ledger \
    --head 442932e6b13b4e7bb8b9ae15cc04e47ff888b12835a54d5557094011ec80a073
expect_grep 'log: 27 entries, head [0-9a-f]\{64\}: migrated to format 2' "$T/out" \
    "27 entries: 12 old, the format, 7 certificates, 2 revocations, 5 settings"
HEAD=$(sed -n 's/.*head \([0-9a-f]\{64\}\).*/\1/p' "$T/out")
dump "$T/v1" > "$T/after"
cmp -s "$T/before" "$T/after" && pass "every certificate, revocation and setting kept as it was" ||
    fail "the records changed: $(diff "$T/before" "$T/after" | head -3)"
expect_exit 0 "after migration: verify-log -> 0" s "$T/v1" verify-log --head "$HEAD"
expect_exit 0 "after migration: list -> 0" s "$T/v1" list
expect_grep "$SB" "$T/out" "list shows the old certificates"
expect_exit 0 "migrate-ledger again: nothing to do -> 0" s "$T/v1" migrate-ledger
expect_grep 'nothing to do' "$T/err" "migrate-ledger again: says so"
expect_exit 0 "after migration: revoke works" s "$T/v1" revoke --key-id web1
expect_exit 0 "after the revocation: verify-log -> 0" s "$T/v1" verify-log
# Now the fields format 1 did not record are covered too.
for t in "issued_at:UPDATE certs SET issued_at=issued_at+1 WHERE serial='$SB'" \
    "subject_key:UPDATE certs SET subject_key=subject_key||'x' WHERE serial='$SB'" \
    "reason:UPDATE certs SET reason='tampered' WHERE serial='$SB'" \
    "principals:UPDATE certs SET principals='root,admin' WHERE serial='$SB'"; do
	col=${t%%:*}
	rm -rf "$T/m"
	mkdir -m 700 "$T/m"
	cp "$T/v1/ledger.db" "$T/m/ledger.db"
	python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1]); db.execute(sys.argv[2]); db.commit()' "$T/m/ledger.db" "${t#*:}"
	expect_exit 13 "migrated ledger, $col changed: verify-log -> 13" s "$T/m" verify-log
	expect_grep "serial $SB: $col differs" "$T/err" "migrated ledger: $col named"
done

finish
