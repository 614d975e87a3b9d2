#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# sshca-tamper.sh - the ledger's log commits to everything the ledger
# records. A ledger with every kind of record (SSH user and host
# certificates, X.509 certificates from a request and from a public key,
# revocations by SSH and X.509 serial, by key id twice and by key, KRL and
# CRL counters) is changed one column of one row at a time, every column of
# every table as the database's own schema lists them, and one row at a
# time is deleted (ledger_tamper.py); verify-log must fail on each copy and
# name what changed. The issue's own example (principals and valid_before
# widened, the subject key's fingerprint swapped) is shown first through
# list: what list shows changed, and verify-log says which field.
. "${top_srcdir:-.}/tests/integration/common.sh"

[ -x "$SSHCA" ] || { echo "nkhsm-sshca not built"; exit 99; }
command -v ssh-keygen >/dev/null 2>&1 || { echo "skip: ssh-keygen missing"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "skip: python3 missing"; exit 77; }
command -v openssl >/dev/null 2>&1 || { echo "skip: openssl missing"; exit 77; }

init_token ca
sc init > "$T/ca.pub" 2>/dev/null || { echo "init failed"; exit 99; }
for k in alice bob carol dave; do
	ssh-keygen -q -t ed25519 -N '' -C "$k" -f "$T/$k" || exit 99
done
ssh-keygen -q -t ecdsa -N '' -C host -f "$T/host" || exit 99
sc sign --user -I alice -n alice,root -V +52w "$T/alice.pub" 2>/dev/null &&
    sc sign --user -I team -n bob -V +52w "$T/bob.pub" 2>/dev/null &&
    sc sign --user -I team -n carol -V forever -O clear -O force-command=/bin/true \
    "$T/carol.pub" 2>/dev/null &&
    sc sign --user -I dave -n dave -V +52w "$T/dave.pub" 2>/dev/null &&
    sc sign --host -I web1 -n web1.example.com -V +52w "$T/host.pub" 2>/dev/null ||
    { echo "sign failed"; exit 99; }
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/w.key" \
    -subj /CN=web.example -out "$T/w.csr" 2>/dev/null || exit 99
sc x509 --csr "$T/w.csr" --profile host --san DNS:web.example,IP:192.0.2.7 -o "$T/w.crt" \
    2> "$T/x.err" || { echo "x509 failed"; exit 99; }
openssl genpkey -algorithm ed25519 -out "$T/u.key" 2>/dev/null &&
    openssl pkey -in "$T/u.key" -pubout -out "$T/u.pem" 2>/dev/null || exit 99
sc x509 --pubkey "$T/u.pem" --subject CN=user1 --san email:user1@example.com \
    -o "$T/u.crt" 2>/dev/null || { echo "x509 failed"; exit 99; }
SA=$(ssh-keygen -L -f "$T/alice-cert.pub" | awk '$1 == "Serial:" {print $2}')
SX=$(sed -n 's/.*serial \([0-9A-F]*\)$/\1/p' "$T/x.err")
sc revoke "$SA" --reason left 2>/dev/null &&
    sc revoke "0x$SX" --reason "key compromise" 2>/dev/null &&
    sc revoke --key-id team --reason "team disbanded" 2>/dev/null &&
    sc revoke --key-id team --reason again 2>/dev/null &&
    sc revoke --key "$T/dave.pub" --reason "laptop lost" 2>/dev/null &&
    sc krl -o "$T/k.krl" 2>/dev/null && sc crl -o "$T/c.crl" 2>/dev/null ||
    { echo "revoke/krl/crl failed"; exit 99; }
expect_exit 0 "the untouched ledger verifies" sc verify-log
expect_grep 'entries, head [0-9a-f]\{64\}: ok' "$T/out" "verify-log: ok with the head"
python3 - "$T/state/ledger.db" <<'EOF' || exit 99
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
db.close()
EOF

# The issue's example, through what list shows.
SB=$(ssh-keygen -L -f "$T/bob-cert.pub" | awk '$1 == "Serial:" {print $2}')
mkdir -m 700 "$T/s"
# edit NAME SQL: a copy of the state with SQL applied; verify-log on it.
edit() {
	cp "$T/state/ledger.db" "$T/s/ledger.db"
	python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1]); db.execute(sys.argv[2]); db.commit()' \
	    "$T/s/ledger.db" "$2" || fail "$1: sql failed"
	"$SSHCA" --config "$T/nkhsm.conf" --state "$T/s" verify-log > "$T/out" 2> "$T/err"
}
edit widen "UPDATE certs SET principals='root,admin', valid_before=4102444800 WHERE serial='$SB'"
rc=$?
"$SSHCA" --config "$T/nkhsm.conf" --state "$T/s" list > "$T/list" 2>&1
grep "$SB" "$T/list" | grep -q 'root,admin' && pass "widened: list shows root,admin (the change is real)" ||
    fail "widened: list does not show the change: $(grep "$SB" "$T/list")"
[ $rc -eq 13 ] && pass "widened principals and validity: verify-log -> 13" ||
    fail "widened: verify-log exit $rc ($(cat "$T/err"))"
expect_grep "certificate ssh serial $SB: valid_before differs from its log entry" "$T/err" \
    "widened: the serial and the first changed field are named"
edit principals "UPDATE certs SET principals='root,admin' WHERE serial='$SB'"
expect_grep "certificate ssh serial $SB: principals differs" "$T/err" \
    "principals alone: named"
edit subject "UPDATE certs SET subject_fp='SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' WHERE serial='$SB'"
expect_grep "certificate ssh serial $SB: subject_fp differs" "$T/err" \
    "the subject key's fingerprint: named"

# Every column of every table, one at a time; every row deleted.
python3 "$top_srcdir/tests/integration/ledger_tamper.py" "$T/state" "$T/s" \
    "$SSHCA" --config "$T/nkhsm.conf" --state "$T/s" verify-log > "$T/tamper.out" 2>&1
rc=$?
grep '^#' "$T/tamper.out"
grep '^FAIL' "$T/tamper.out" | head -20
summary=$(tail -1 "$T/tamper.out")
[ $rc -eq 0 ] && pass "every change detected and named: $summary" ||
    fail "not every change detected: $summary"
# The schema the test read covers what this version writes.
for col in certs.family certs.serial certs.kind certs.key_id certs.principals \
    certs.valid_after certs.valid_before certs.subject_fp certs.subject_key \
    certs.issued_at certs.cert certs.log_seq certs.revoked_at certs.reason \
    revocations.what revocations.value revocations.subject_key revocations.at \
    revocations.reason meta.k meta.v log.seq log.entry log.prev log.hash; do
	grep -q "^# $col " "$T/tamper.out" || fail "column $col was not changed"
done
pass "the 25 columns of the 4 tables were all among those changed"

finish
