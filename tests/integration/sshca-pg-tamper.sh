#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# sshca-pg-tamper.sh - sshca-tamper.sh's matrix on a PostgreSQL ledger: a
# ledger that two sites filled with every kind of record (SSH user and host
# certificates, X.509 certificates from a request and from a public key,
# revocations by SSH and X.509 serial, by key id twice and by key, KRL and
# CRL counters) is changed one column of one row at a time, every column
# of every table as the database's catalogue lists them, and one row at a
# time is deleted (ledger_tamper_pg.py); verify-log must fail on each and
# name what changed. The issue's example (principals and valid_before
# widened) first, through what list shows at the other site.
. "${top_srcdir:-.}/tests/integration/common.sh"
. "$top_srcdir/tests/integration/pg-common.sh"

[ -x "$SSHCA" ] || { echo "nkhsm-sshca not built"; exit 99; }
for c in ssh-keygen openssl python3; do
	command -v $c >/dev/null 2>&1 || { echo "FAIL - $c missing"; exit 99; }
done

pg_start
site a
site b
at a init --key "$(site_key a)" --ledger "$PGURL" > "$T/ca.pub" 2>/dev/null &&
    at b init --join --key "$(site_key b)" --ledger "$PGURL" >/dev/null 2>&1 ||
    { echo "init/join failed"; exit 99; }
for k in alice bob carol dave; do
	ssh-keygen -q -t ed25519 -N '' -C "$k" -f "$T/$k" || exit 99
done
ssh-keygen -q -t ecdsa -N '' -C host -f "$T/host" || exit 99
at a sign --user -I alice -n alice,root -V +52w "$T/alice.pub" 2>/dev/null &&
    at b sign --user -I team -n bob -V +52w "$T/bob.pub" 2>/dev/null &&
    at a sign --user -I team -n carol -V forever -O clear -O force-command=/bin/true \
    "$T/carol.pub" 2>/dev/null &&
    at b sign --user -I dave -n dave -V +52w "$T/dave.pub" 2>/dev/null &&
    at a sign --host -I web1 -n web1.example.com -V +52w "$T/host.pub" 2>/dev/null ||
    { echo "sign failed"; exit 99; }
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/w.key" \
    -subj /CN=web.example -out "$T/w.csr" 2>/dev/null || exit 99
at b x509 --csr "$T/w.csr" --profile host --san DNS:web.example,IP:192.0.2.7 -o "$T/w.crt" \
    2> "$T/x.err" || { echo "x509 failed"; exit 99; }
openssl genpkey -algorithm ed25519 -out "$T/u.key" 2>/dev/null &&
    openssl pkey -in "$T/u.key" -pubout -out "$T/u.pem" 2>/dev/null || exit 99
at a x509 --pubkey "$T/u.pem" --subject CN=user1 --san email:user1@example.com \
    -o "$T/u.crt" 2>/dev/null || { echo "x509 failed"; exit 99; }
SA=$(ssh-keygen -L -f "$T/alice-cert.pub" | awk '$1 == "Serial:" {print $2}')
SX=$(sed -n 's/.*serial \([0-9A-F]*\)$/\1/p' "$T/x.err")
at b revoke "$SA" --reason left 2>/dev/null &&
    at a revoke "0x$SX" --reason "key compromise" 2>/dev/null &&
    at b revoke --key-id team --reason "team disbanded" 2>/dev/null &&
    at a revoke --key-id team --reason again 2>/dev/null &&
    at b revoke --key "$T/dave.pub" --reason "laptop lost" 2>/dev/null &&
    at a krl -o "$T/k.krl" 2>/dev/null && at b crl -o "$T/c.crl" 2>/dev/null ||
    { echo "revoke/krl/crl failed"; exit 99; }
expect_exit 0 "the untouched ledger verifies (at a)" at a verify-log
expect_exit 0 "the untouched ledger verifies (at b)" at b verify-log

# The issue's example: a row changed in the database, seen through list at
# the other site, and named by verify-log.
SB=$(ssh-keygen -L -f "$T/bob-cert.pub" | awk '$1 == "Serial:" {print $2}')
VB=$(pg_sql nkca "SELECT valid_before FROM certs WHERE serial = '$SB'")
pg_sql nkca "UPDATE certs SET principals = 'root,admin', valid_before = 4102444800
    WHERE serial = '$SB'" || fail "widen: sql failed"
at a list > "$T/list" 2>&1
grep "$SB" "$T/list" | grep -q 'root,admin' && pass "widened: list at a shows root,admin (the change is real)" ||
    fail "widened: list does not show the change: $(grep "$SB" "$T/list")"
expect_exit 13 "widened principals and validity: verify-log at a -> 13" at a verify-log
expect_grep "certificate ssh serial $SB: valid_before differs from its log entry" "$T/err" \
    "widened: the serial and the first changed field are named"
pg_sql nkca "UPDATE certs SET principals = 'bob', valid_before = $VB WHERE serial = '$SB'"
expect_exit 0 "put back: verify-log at b" at b verify-log

# Every column of every table, one at a time; every row deleted.
python3 "$top_srcdir/tests/integration/ledger_tamper_pg.py" "$PG_BIN/psql" "$PGS" "$PG_ADMIN" \
    nkca env SOFTHSM2_CONF="$T/b.softhsm2.conf" "$SSHCA" --config "$T/nkhsm.conf" \
    --state "$T/b" verify-log > "$T/tamper.out" 2>&1
rc=$?
grep '^#' "$T/tamper.out"
grep '^FAIL' "$T/tamper.out" | head -20
summary=$(tail -1 "$T/tamper.out")
[ $rc -eq 0 ] && pass "every change detected and named, the ledger put back: $summary" ||
    fail "not every change detected: $summary ($(grep -v '^#\|^FAIL\|^changes' "$T/tamper.out" | head -3))"
# The catalogue the test read covers what this version writes.
for col in certs.family certs.serial certs.kind certs.key_id certs.principals \
    certs.valid_after certs.valid_before certs.subject_fp certs.subject_key \
    certs.issued_at certs.cert certs.log_seq certs.revoked_at certs.reason \
    revocations.what revocations.value revocations.subject_key revocations.at \
    revocations.reason meta.k meta.v log.seq log.entry log.prev log.hash; do
	grep -q "^# $col " "$T/tamper.out" || fail "column $col was not changed"
done
pass "the 25 columns of the 4 tables were all among those changed"

finish
