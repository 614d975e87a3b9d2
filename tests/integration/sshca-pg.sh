#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# sshca-pg.sh - nkhsm-sshca with its ledger on a real PostgreSQL server
# (pg-common.sh: a throwaway cluster, Unix socket only), shared by CA sites
# whose SoftHSM tokens hold the same CA key. The ledger URL is checked
# (no password in it, nor PGPASSWORD; an unreachable server is status 15);
# init makes the schema and a second init is refused; init --join needs
# the key, refuses a token whose key is not the CA's (a different key, and
# a public key object that claims the CA's key over another private key),
# and leaves the joining site's state with site.conf and ca.pem only; a
# site can log in with a password file as a role with the documented
# grants only; every command works at every site (sign, x509, revoke,
# krl, crl, list, verify-log, migrate-ledger, ca-pubkey) and sees the
# other sites' work: the KRL and the CRL hold revocations made at either
# site, checked by ssh-keygen -Q and openssl; a serial one site issued
# with -z is refused at the other (the database's UNIQUE); ledger = in
# nkhsm.conf names the ledger; and sqlite:/PATH works the same way.
. "${top_srcdir:-.}/tests/integration/common.sh"
. "$top_srcdir/tests/integration/pg-common.sh"

[ -x "$SSHCA" ] || { echo "nkhsm-sshca not built"; exit 99; }
"$SSHCA" --help | grep -q -- '--ledger URL' || { echo "nkhsm-sshca has no --ledger"; exit 99; }
for c in ssh-keygen openssl pkcs11-tool; do
	command -v $c >/dev/null 2>&1 || { echo "FAIL - $c missing"; exit 99; }
done

pg_start
tables() { pg_sql nkca "SELECT count(*) FROM pg_tables WHERE tablename IN ('meta','certs','revocations','log')"; }
serial_of() { ssh-keygen -L -f "$1" 2>/dev/null | awk '$1 == "Serial:" {print $2}'; }

# --- the ledger URL: no password, no PGPASSWORD, a reachable server -------------------
site a
U="postgresql:///nkca?host=$PGS"
expect_exit 2 "a password in the URI (user:password@) -> 2" \
    at a init --key "$(site_key a)" --ledger "postgresql://root:secret@/nkca?host=$PGS"
expect_grep 'password in the URL is refused' "$T/err" "user:password@: the message says why"
expect_exit 2 "password= in the URI's query -> 2" \
    at a init --key "$(site_key a)" --ledger "$U&password=secret"
expect_exit 2 "password= in a key=value connection string -> 2" \
    at a init --key "$(site_key a)" --ledger "postgresql:host=$PGS dbname=nkca password=secret"
expect_exit 2 "PGPASSWORD set -> 2" env PGPASSWORD=secret \
    "$SSHCA" --config "$T/nkhsm.conf" --state "$T/a" init --ledger "$U"
expect_grep 'PGPASSWORD is set' "$T/err" "PGPASSWORD: named in the message"
expect_exit 2 "sqlite: with a relative path -> 2" at a list --ledger sqlite:ledger.db
expect_exit 2 "an unknown scheme -> 2" at a list --ledger mysql://db/ca
printf 'ledger = postgresql://ca:pw@db.example.com/nkca\n' > "$T/pw.conf"
chmod 600 "$T/pw.conf"
expect_exit 2 "ledger = with a password in nkhsm.conf -> 2" \
    "$SSHCA" --config "$T/pw.conf" --state "$T/a" list
expect_grep 'pw.conf:1: ledger: a password in the URL is refused' "$T/err" \
    "nkhsm.conf: the file, line and reason"
[ "$(tables)" -eq 0 ] && pass "nothing refused made a table" || fail "a refused init made tables"
expect_exit 15 "a server that is not there -> 15" \
    at a init --key "$(site_key a)" --ledger "postgresql:///nkca?host=$T/nowhere"
expect_grep 'cannot connect to the database' "$T/err" "no server: 'cannot connect' in the message"
[ ! -e "$T/a/site.conf" ] && [ ! -e "$T/a/ca.pem" ] && [ ! -e "$T/a/ledger.db" ] &&
    pass "no server: nothing written to the state" || fail "no server: the state has files: $(ls "$T/a")"

# --- init and join ------------------------------------------------------------------
expect_exit 0 "init --ledger postgresql://... (site a)" at a init --key "$(site_key a)" --ledger "$U"
cp "$T/out" "$T/ca.pub"
[ "$(tables)" -eq 4 ] && pass "init made the 4 tables" || fail "init made $(tables) tables"
[ "$(ls "$T/a" | tr '\n' ' ')" = "ca.pem site.conf " ] &&
    pass "site a's state: ca.pem and site.conf only" || fail "site a's state: $(ls "$T/a")"
expect_grep "^ledger = $U\$" "$T/a/site.conf" "site.conf records the ledger"
expect_grep '^key = pkcs11:serial=.*;id=%01;type=private$' "$T/a/site.conf" \
    "site.conf records the key by token serial and id"
[ "$(stat -c %a "$T/a/site.conf")" = 600 ] && pass "site.conf is mode 600" ||
    fail "site.conf is mode $(stat -c %a "$T/a/site.conf")"
[ "$(pg_sql nkca "SELECT string_agg(k, ',' ORDER BY k) FROM meta")" = \
    "ca_cert,ca_pubkey,log_count,log_format,log_head" ] &&
    pass "the ledger keeps what all sites share, no site's module or key" ||
    fail "meta holds: $(pg_sql nkca "SELECT string_agg(k, ',' ORDER BY k) FROM meta")"
expect_exit 9 "init again at site a -> 9" at a init --key "$(site_key a)"
site n
expect_exit 9 "a plain init of another site on the same ledger -> 9" \
    at n init --key "$(site_key n)" --ledger "$U"
expect_grep 'init --join' "$T/err" "the message points to init --join"
rm -rf "$T/n"

# A site whose token holds another key, and one whose public key object is
# the CA's but whose private key is not (only a signature can tell).
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/other.pem" 2>/dev/null &&
    openssl pkcs8 -topk8 -nocrypt -in "$T/other.pem" -out "$T/other.p8" || exit 99
site x "$T/other.p8"
expect_exit 4 "join with a token whose key is another -> 4" \
    at x init --join --key "$(site_key x)" --ledger "$U"
expect_grep "not the ledger's CA key" "$T/err" "another key: said so"
site l "$T/other.p8"
openssl pkey -in "$T/cakey.pem" -pubout -outform DER -out "$T/capub.der" 2>/dev/null || exit 99
SOFTHSM2_CONF="$T/l.softhsm2.conf" pkcs11-tool --module "$SOFTHSM_MODULE" --token-label l \
    --login --pin "$USER_PIN" --delete-object --type pubkey --id 01 >/dev/null 2>&1 &&
    SOFTHSM2_CONF="$T/l.softhsm2.conf" pkcs11-tool --module "$SOFTHSM_MODULE" --token-label l \
    --login --pin "$USER_PIN" --write-object "$T/capub.der" --type pubkey --id 01 \
    --label ca >/dev/null 2>&1 || { echo "cannot make the lying token"; exit 99; }
SOFTHSM2_CONF="$T/l.softhsm2.conf" ssh-keygen -D "$SOFTHSM_MODULE" 2>/dev/null | awk '{print $2}' > "$T/l.pub"
[ "$(cat "$T/l.pub")" = "$(awk '{print $2}' "$T/ca.pub")" ] &&
    pass "the lying token's public key object is the CA key (ssh-keygen -D)" ||
    fail "the lying token shows another public key"
expect_exit 4 "join with the CA's public key over another private key -> 4" \
    at l init --join --key "$(site_key l)" --ledger "$U"
expect_grep 'signature does not verify' "$T/err" "the lying token: its signature is what gave it away"
[ ! -e "$T/x/site.conf" ] && [ ! -e "$T/x/ca.pem" ] && [ ! -e "$T/l/site.conf" ] &&
    [ ! -e "$T/l/ca.pem" ] && pass "refused joins wrote nothing" || fail "a refused join wrote files"
site b
expect_exit 2 "join without --key -> 2" at b init --join --ledger "$U"
expect_exit 2 "join with --curve -> 2" at b init --join --key "$(site_key b)" --ledger "$U" --curve p384
expect_exit 2 "join without a shared ledger -> 2" at b init --join --key "$(site_key b)"
expect_exit 0 "init --join --key --ledger (site b)" at b init --join --key "$(site_key b)" --ledger "$U"
cmp -s "$T/out" "$T/ca.pub" && pass "join prints the same CA line" || fail "join printed another CA line"
[ "$(ls "$T/b" | tr '\n' ' ')" = "ca.pem site.conf " ] &&
    pass "site b's state: ca.pem and site.conf only" || fail "site b's state: $(ls "$T/b")"
cmp -s "$T/a/ca.pem" "$T/b/ca.pem" && pass "site b's ca.pem is site a's" || fail "ca.pem differs"
expect_exit 9 "join again at site b -> 9" at b init --join --key "$(site_key b)" --ledger "$U"
at b ca-pubkey > "$T/b.capub" 2>/dev/null
cmp -s "$T/b.capub" "$T/ca.pub" && pass "ca-pubkey at b is the CA line" || fail "ca-pubkey at b differs"

# Site c logs in as a role with only the documented grants, by password file.
pg_role site_c 'c-secret-7'
site c
UC="postgresql:///nkca?host=$PGS&user=site_c"
expect_exit 15 "as role site_c without its password file -> 15" env PGPASSFILE="$T/none" \
    SOFTHSM2_CONF="$T/c.softhsm2.conf" "$SSHCA" --config "$T/nkhsm.conf" --state "$T/c" \
    --module "$SOFTHSM_MODULE" --pin-source env:NK_TEST_PIN init --join --key "$(site_key c)" --ledger "$UC"
export PGPASSFILE="$T/site_c.pgpass"
expect_exit 0 "join as role site_c, password from PGPASSFILE" \
    at c init --join --key "$(site_key c)" --ledger "$UC"

# --- every command at every site ------------------------------------------------------
for k in a1 a2 b1 c1 t1 z1 z2; do ssh-keygen -q -t ed25519 -N '' -C "$k" -f "$T/$k" || exit 99; done
expect_exit 0 "sign at a (2 keys)" at a sign --user -I alice -n alice -V +1h "$T/a1.pub" "$T/a2.pub"
expect_exit 0 "sign at b" at b sign --host -I web1 -n web1.example.com -V +52w "$T/b1.pub"
expect_exit 0 "sign at c (role site_c)" at c sign --user -I carol -n carol -V +1h "$T/c1.pub"
bad=
for k in a1 a2 b1 c1; do
	ssh-keygen -L -f "$T/$k-cert.pub" > "$T/L" 2>&1 &&
	    grep -q "Signing CA: ECDSA $(ssh-keygen -lf "$T/ca.pub" | awk '{print $2}')" "$T/L" ||
	    bad="$bad $k"
done
[ -z "$bad" ] && pass "ssh-keygen -L: all 4 certificates, signed by the CA key" || fail "bad certificates:$bad"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/w.key" \
    -subj /CN=web.example -out "$T/w.csr" 2>/dev/null || exit 99
openssl genpkey -algorithm ed25519 -out "$T/u.key" 2>/dev/null &&
    openssl pkey -in "$T/u.key" -pubout -out "$T/u.pem" 2>/dev/null || exit 99
expect_exit 0 "x509 --csr at b" at b x509 --csr "$T/w.csr" --profile host --san DNS:web.example -o "$T/w.crt"
XB=$(sed -n 's/.*serial \([0-9A-F]*\)$/\1/p' "$T/err")
expect_exit 0 "x509 --pubkey at a" at a x509 --pubkey "$T/u.pem" --subject CN=user1 -o "$T/u.crt"
XA=$(sed -n 's/.*serial \([0-9A-F]*\)$/\1/p' "$T/err")
for c in w u; do
	openssl verify -CAfile "$T/a/ca.pem" "$T/$c.crt" >/dev/null 2>&1 ||
	    fail "openssl verify $c.crt against the CA"
done
# Revocations at both sites, of what the other site issued.
SB=$(serial_of "$T/b1-cert.pub")
expect_exit 0 "revoke at a: b's SSH certificate" at a revoke "$SB" --reason "host gone"
expect_exit 0 "revoke at b: a's X.509 certificate" at b revoke "0x$XA"
expect_exit 0 "revoke at c: b's X.509 certificate" at c revoke "0x$XB"
expect_exit 0 "revoke --key-id alice at b (a's certificates)" at b revoke --key-id alice
expect_grep 'revoked (3 ledger entries)' "$T/err" "--key-id at b covers a's 2 certificates"
expect_exit 0 "revoke --key c1.pub at a" at a revoke --key "$T/c1.pub"
ssh-keygen -q -t ed25519 -N '' -C a3 -f "$T/a3" || exit 99
expect_exit 12 "a key id revoked at b is refused at a -> 12" at a sign --user -I alice -n alice -V +1h "$T/a3.pub"
expect_exit 0 "krl at a" at a krl -o "$T/a.krl"
bad=
for k in a1 a2 b1 c1; do
	ssh-keygen -Q -f "$T/a.krl" "$T/$k-cert.pub" 2>&1 | grep -q ': REVOKED$' || bad="$bad $k"
done
[ -z "$bad" ] && pass "KRL from a: revocations made at a, b and c all REVOKED (ssh-keygen -Q)" ||
    fail "KRL from a does not revoke:$bad"
expect_exit 0 "krl at b" at b krl -o "$T/b.krl"
expect_grep 'KRL version 2' "$T/err" "the KRL version counts across sites (a made 1, b 2)"
expect_exit 0 "crl at a" at a crl -o "$T/a.crl"
expect_exit 0 "crl at b" at b crl -o "$T/b.crl"
for s in a b; do
	openssl crl -in "$T/$s.crl" -noout -text > "$T/$s.crltxt" 2>&1
	grep -q "Serial Number: 0*$XA$" "$T/$s.crltxt" && grep -q "Serial Number: 0*$XB$" "$T/$s.crltxt" &&
	    pass "CRL from $s lists the X.509 revocations made at b and c" ||
	    fail "CRL from $s: $(grep 'Serial Number' "$T/$s.crltxt" | tr '\n' ' ')"
done
openssl verify -crl_check -CAfile "$T/a/ca.pem" -CRLfile "$T/b.crl" "$T/u.crt" > "$T/v" 2>&1
grep -q 'certificate revoked' "$T/v" && pass "openssl verify -crl_check: a's certificate revoked by b's CRL" ||
    fail "openssl verify -crl_check: $(cat "$T/v")"
expect_grep 'CRL number 2' "$T/err" "the CRL number counts across sites"

# The same ledger seen from every site.
at a list > "$T/a.list" 2>&1 && at b list > "$T/b.list" 2>&1 && at c list > "$T/c.list" 2>&1
[ "$(wc -l < "$T/a.list")" -eq 6 ] && cmp -s "$T/a.list" "$T/b.list" && cmp -s "$T/a.list" "$T/c.list" &&
    pass "list is the same at a, b and c (6 certificates)" || fail "list differs between sites"
at a list --json > "$T/a.json" 2>&1 && at b list --json > "$T/b.json" 2>&1
cmp -s "$T/a.json" "$T/b.json" && pass "list --json is the same at a and b" || fail "list --json differs"
expect_exit 0 "verify-log at a" at a verify-log
head_a=$(sed -n 's/.*head \([0-9a-f]*\): ok/\1/p' "$T/out")
expect_exit 0 "verify-log at b, with a's head" at b verify-log --head "$head_a"
expect_exit 0 "migrate-ledger on a current PostgreSQL ledger: nothing to do" at b migrate-ledger
expect_grep 'nothing to do' "$T/err" "migrate-ledger says so"

# -z: a serial issued at one site is taken at every site.
expect_exit 0 "sign -z 7000 at a" at a sign --user -I z -n z -V +1h -z 7000 "$T/z1.pub"
expect_exit 9 "sign -z 7000 at b -> 9" at b sign --user -I z -n z -V +1h -z 7000 "$T/z2.pub"
expect_grep 'serial 7000 was issued before' "$T/err" "-z taken: said so"
[ ! -e "$T/z2-cert.pub" ] && [ "$(pg_sql nkca "SELECT count(*) FROM certs WHERE serial='7000'")" -eq 1 ] &&
    pass "-z taken: no file, one certificate 7000 in the ledger" || fail "-z 7000 issued twice"

# A key id the database cannot hold (not UTF-8): refused, nothing issued.
expect_exit 1 "a key id that is not UTF-8 -> 1" at a sign --user -I "$(printf 'k\377')" -n t -V +1h "$T/t1.pub"
[ ! -e "$T/t1-cert.pub" ] && pass "not UTF-8: no certificate written" || fail "not UTF-8: a certificate was written"

# --- ledger = in nkhsm.conf, and sqlite:/PATH shared the same way ----------------------
site d
printf 'ledger = %s\n' "$U" > "$T/d.conf"
chmod 600 "$T/d.conf"
expect_exit 0 "join with ledger = from nkhsm.conf" env SOFTHSM2_CONF="$T/d.softhsm2.conf" \
    "$SSHCA" --config "$T/d.conf" --state "$T/d" --module "$SOFTHSM_MODULE" \
    --pin-source env:NK_TEST_PIN init --join --key "$(site_key d)"
expect_grep "^ledger = $U\$" "$T/d/site.conf" "site.conf records nkhsm.conf's ledger"
expect_exit 0 "site d lists the shared ledger (empty nkhsm.conf now)" at d list
[ "$(wc -l < "$T/out")" -eq 7 ] && pass "site d sees all 7 certificates" || fail "site d sees $(wc -l < "$T/out")"
site s1
site s2
expect_exit 0 "init --ledger sqlite:/PATH" at s1 init --key "$(site_key s1)" --ledger "sqlite:$T/shared.db"
expect_exit 0 "join the same sqlite:/PATH ledger" at s2 init --join --key "$(site_key s2)" --ledger "sqlite:$T/shared.db"
expect_exit 0 "sign at s2 on the shared SQLite ledger" at s2 sign --user -I s -n s -V +1h "$T/z2.pub"
expect_exit 0 "verify-log at s1" at s1 verify-log
[ "$(ls "$T/s1" | tr '\n' ' ')" = "ca.pem site.conf " ] && pass "sqlite:/PATH: the state holds ca.pem and site.conf" ||
    fail "sqlite:/PATH state: $(ls "$T/s1")"

finish
