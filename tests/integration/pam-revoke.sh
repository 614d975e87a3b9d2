#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# pam-revoke.sh - revocation end to end (issue 12): one CA revokes a token
# once, and the console login (pam_nkhsm) and sshd both refuse it.
#  1. nkhsm-sshca init makes the CA; the user's token key makes a request
#     (nkhsm-tool csr), the CA certifies it (x509 --profile login), and
#     nkhsm-tool import stores the certificate beside the key.
#  2. pam_nkhsm with ca= and crl= logs in.
#  3. revoke + crl: the next login is PAM_AUTH_ERR, the user is told, and no
#     PIN try is spent (the token's retry counter, libnkfault, is untouched;
#     no C_Login is made).
#  4. The same key as an SSH user key: nkhsm-sshca signs it, a real sshd with
#     TrustedUserCAKeys and RevokedKeys lets ssh -I (the PKCS#11 module) in;
#     after revoke --key and krl, sshd refuses it and pam_nkhsm with krl=
#     refuses the same key at the console, in both modes.
#  5. Fail closed: an expired CRL (and crl_grace=), a CRL signed by another
#     key, a missing CRL, a truncated KRL: PAM_AUTHINFO_UNAVAIL, the log says
#     which.
. "${top_srcdir:-.}/tests/integration/common.sh"
. "$top_srcdir/tests/integration/sshca-checks.sh"
pam_setup
[ -x "$SSHCA" ] || { echo "nkhsm-sshca not built"; exit 99; }
[ -f "$FAULT_MODULE" ] || { echo "libnkfault not built"; exit 99; }

# --- 1. the CA, the request, the certificate, the import -------------------------
init_token ca
sc init > "$T/ca.pub" 2>/dev/null || { echo "nkhsm-sshca init failed"; exit 99; }
install -m 644 "$T/state/ca.pem" "$T/ca.pem"
init_token user
UKEY='pkcs11:token=user;id=%01'
nk keygen --token pkcs11:token=user --label login --id 01 \
    --pin-source env:NK_TEST_PIN >/dev/null || exit 99
expect_exit 0 "nkhsm-tool csr --subject CN=user --days 30" nk csr \
    --subject "CN=$PAM_USER,O=nkhsm" --days 30 --pin-source env:NK_TEST_PIN \
    "$UKEY" -o "$T/user.csr"
expect_exit 0 "openssl req -verify: the request's signature verifies" \
    openssl req -in "$T/user.csr" -noout -verify
nk pubkey --format pem -o "$T/user.pub.pem" "$UKEY"
openssl req -in "$T/user.csr" -noout -pubkey > "$T/csr.pub.pem"
cmp -s "$T/user.pub.pem" "$T/csr.pub.pem" && pass "the request carries the token key" ||
    fail "the request's key is not the token key"
expect_exit 0 "nkhsm-sshca x509 --csr --profile login" sc x509 --csr "$T/user.csr" \
    --profile login --days 30 -o "$T/user.crt"
openssl x509 -in "$T/user.crt" -noout -text > "$T/user.txt"
expect_grep "TLS Web Client Authentication" "$T/user.txt" "login certificate: clientAuth"
expect_grep "Subject: CN = $PAM_USER" "$T/user.txt" "login certificate: CN is the user name"
expect_exit 0 "openssl verify -purpose sslclient against ca.pem" \
    openssl verify -purpose sslclient -CAfile "$T/ca.pem" "$T/user.crt"
SERIAL_HEX=$(openssl x509 -in "$T/user.crt" -noout -serial | sed 's/^serial=0*//')
expect_ledger "$SERIAL_HEX" '"kind":"x509-login"' "the ledger records an x509-login certificate"
# The login profile takes only subjects pam_nkhsm can map to one user.
for bad in "O=nkhsm" "CN=two words" "CN=-dash" "CN=1234" "CN=$PAM_USER,UID=other" \
    "CN=a,CN=b" "CN=$(printf 'x%.0s' $(seq 33))"; do
	expect_exit 2 "x509 --profile login refuses the subject '$bad'" sc x509 \
	    --pubkey "$T/user.pub.pem" --subject "$bad" --profile login -o "$T/bad.crt"
	expect_grep "login profile\|different users" "$T/err" "... because of the login rule"
done
expect_exit 0 "x509 --profile login takes CN and UID when they agree" sc x509 \
    --pubkey "$T/user.pub.pem" --subject "CN=$PAM_USER,UID=$PAM_USER" \
    --profile login -o "$T/both.crt"
expect_exit 0 "nkhsm-tool import --cert" nk import --cert "$T/user.crt" \
    --pin-source env:NK_TEST_PIN "$UKEY"
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label user --list-objects \
    --type cert 2>/dev/null | grep -q 'ID: *01' &&
    pass "the certificate is on the token with the key's CKA_ID (pkcs11-tool)" ||
    fail "no certificate with ID 01 on the token"

# --- 2. ca= and crl=: the login succeeds -------------------------------------------
expect_exit 0 "nkhsm-sshca crl" sc crl -o "$T/crl.pem"
chmod 644 "$T/crl.pem"
PIN_STATE="$T/pin.state"
CA_LINE="auth required $PAM_MOD helper=$PAM_HELPER conf=$T/nkhsm.conf rundir=$RUNDIR module=$FAULT_MODULE token=pkcs11:token=user ca=$T/ca.pem"
pam_service crl "$CA_LINE crl=$T/crl.pem"
# fault: a retry counter of 3 the token keeps across processes.
pam_fault() {
	svc=$1 pin=$2 log=$3
	pam_run "$svc" authenticate "$pin\n" NKFAULT_MODULE="$SOFTHSM_MODULE" \
	    NKFAULT_PIN_TRIES=3 NKFAULT_STATE="$PIN_STATE" NKFAULT_LOG="$T/$log"
}
pin_count_low() {
	NKFAULT_MODULE="$SOFTHSM_MODULE" NKFAULT_PIN_TRIES=3 NKFAULT_STATE="$PIN_STATE" \
	    "$TOOL" --config "$T/nkhsm.conf" --module "$FAULT_MODULE" status --json \
	    --token pkcs11:token=user 2>/dev/null | grep -o '"count_low":[a-z]*'
}
pam_fault crl "$USER_PIN" ok.log
expect_pam "$R_SUCCESS" "ca= crl=, certificate not revoked: PAM_SUCCESS"

# --- 3. revoke the certificate: AUTH_ERR before any PIN -------------------------------
SERIAL=$(openssl x509 -in "$T/user.crt" -noout -serial | sed 's/^serial=//')
expect_exit 0 "nkhsm-sshca revoke 0x$SERIAL" sc revoke "0x$SERIAL" --reason lost
expect_exit 0 "nkhsm-sshca crl after the revocation" sc crl -o "$T/crl.pem"
expect_eq "$(pin_count_low)" '"count_low":false' "before: the token's PIN counter is full"
pam_fault crl 000000 revoked.log
expect_pam "$R_AUTH_ERR" "the revoked certificate: PAM_AUTH_ERR"
expect_grep "certificate has been revoked" "$T/pam.out" "the user is told the certificate is revoked"
expect_grep "revoked: certificate serial 0x$SERIAL issuer " "$T/pam.out" \
    "logged with the serial and the issuer"
grep -q "PIN for" "$T/pam.out" && fail "revoked: the PIN was asked for" ||
    pass "revoked: no PIN prompt"
grep -q C_Login "$T/revoked.log" && fail "revoked: C_Login was called" ||
    pass "revoked: no C_Login"
expect_eq "$(pin_count_low)" '"count_low":false' \
    "revoked with a wrong PIN typed: no PIN try spent (count_low still false)"
# Control: the same wrong PIN on a login that reaches the token spends a try.
pam_service nocrl "$CA_LINE"
pam_fault nocrl 000000 wrong.log
expect_pam "$R_AUTH_ERR" "control, no crl=: a wrong PIN is PAM_AUTH_ERR"
expect_eq "$(pin_count_low)" '"count_low":true' "control: that wrong PIN spent a try"
pam_fault nocrl "$USER_PIN" reset.log

# --- 4. the same key for SSH: sshd and pam_nkhsm krl= ----------------------------------
if [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null 2>&1; then
	usermod -s /bin/sh "$PAM_USER" || exit 99
	sc -q krl -o "$T/revoked.krl" || exit 99
	ssh-keygen -q -t ecdsa -b 256 -N '' -C host -f "$T/hostkey" || exit 99
	. "$top_srcdir/tests/integration/sshd-common.sh"
	start_sshd "$T/hostkey"
	nk pubkey "$UKEY" > "$T/tok.pub" || exit 99
	expect_exit 0 "nkhsm-sshca sign the token key for $PAM_USER" sc sign --user \
	    -I token-key -n "$PAM_USER" -V +1h "$T/tok.pub"
	printf '#!/bin/sh\necho %s\n' "$USER_PIN" > "$T/askpass"
	chmod 755 "$T/askpass"
	# ssh_token DESC WANT: ssh -I with the PKCS#11 module and the certificate
	# (-i names the token key's public half, so that ssh pairs the two).
	ssh_token() {
		lines=$(wc -l < "$T/sshd.log")
		SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force setsid -w \
		    ssh -F /dev/null -I "$SOFTHSM_MODULE" \
		    -i "$T/tok.pub" -o CertificateFile="$T/tok-cert.pub" \
		    -o IdentitiesOnly=yes \
		    -o IdentityAgent=none -o PasswordAuthentication=no \
		    -o KbdInteractiveAuthentication=no -o ConnectTimeout=20 \
		    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		    -o LogLevel=ERROR -p "$PORT" "$PAM_USER@127.0.0.1" true \
		    < /dev/null > "$T/ssh.out" 2>&1
		rc=$?
		sleep 0.2
		tail -n +$((lines + 1)) "$T/sshd.log" > "$T/sshd.new"
		case "$2:$rc" in
		ok:0 | refused:255) pass "$1" ;;
		*)
			fail "$1: ssh exit $rc, wanted $2"
			sed 's/^/  ssh: /' "$T/ssh.out" | head -3
			sed 's/^/  sshd: /' "$T/sshd.new" | tail -3
			;;
		esac
	}
	ssh_token "sshd lets the token's key in with its certificate (ssh -I)" ok
	expect_grep "Accepted publickey for $PAM_USER .* ECDSA-CERT .* ID token-key" \
	    "$T/sshd.new" "sshd accepted the certificate"
	# The console, authorized-key mode, with the KRL before the revocation.
	install -o "$PAM_USER" -m 600 "$T/tok.pub" "$AUTHFILE"
	KRL_LINE="auth required $PAM_MOD $PAM_BASE token=pkcs11:token=user krl=$T/revoked.krl"
	pam_service krl "$KRL_LINE"
	pam_run krl authenticate "$USER_PIN\n"
	expect_pam "$R_SUCCESS" "pam_nkhsm krl=, key not revoked: PAM_SUCCESS"
	expect_exit 0 "nkhsm-sshca revoke --key (the lost token's key)" sc revoke \
	    --key "$T/tok.pub" --reason lost
	expect_exit 0 "nkhsm-sshca krl" sc krl -o "$T/revoked.krl"
	ssh_token "after revoke and krl, sshd refuses the token" refused
	expect_grep "revoked by file $T/revoked.krl" "$T/sshd.new" "sshd: revoked by the KRL"
	pam_run krl authenticate "$USER_PIN\n"
	expect_pam "$R_AUTH_ERR" "pam_nkhsm krl= refuses the same key at the console"
	expect_grep "key has been revoked" "$T/pam.out" "the user is told the key is revoked"
	expect_grep "authorized key line 1 is revoked by KRL $T/revoked.krl (SHA-256 fingerprint)" \
	    "$T/pam.out" "logged: the line, the KRL and how"
	grep -q "PIN for" "$T/pam.out" && fail "krl=: the PIN was asked for" ||
	    pass "krl=: no PIN prompt"
	# ca= mode: the certificate is good to the CA's X.509 side, its key is not.
	pam_service krlca "$CA_LINE krl=$T/revoked.krl"
	sed -i "s| module=$FAULT_MODULE| module=$SOFTHSM_MODULE|" "$PAMD/krlca"
	pam_run krlca authenticate "$USER_PIN\n"
	expect_pam "$R_AUTH_ERR" "ca= krl=: the certificate's key is revoked: PAM_AUTH_ERR"
	expect_grep "the certificate's key is revoked by KRL" "$T/pam.out" "ca= krl=: logged"
	stop_sshd
else
	echo "# skipped step 4: no sshd or ssh here"
fi

# --- 5. fail closed ------------------------------------------------------------------
# expect_unavail SERVICE PATTERN DESC
expect_unavail() {
	pam_run "$1" authenticate "$USER_PIN\n"
	expect_pam "$R_UNAVAIL" "$3: PAM_AUTHINFO_UNAVAIL"
	expect_grep "$2" "$T/pam.out" "$3: the log says why"
	grep -q "PIN for" "$T/pam.out" && fail "$3: the PIN was asked for" ||
	    pass "$3: no PIN prompt"
}
BASE="auth required $PAM_MOD $PAM_BASE token=pkcs11:token=user ca=$T/ca.pem"
pam_service missing "$BASE crl=$T/nosuch.pem"
expect_unavail missing "nosuch.pem: No such file" "a missing crl= file"
# A truncated KRL (a copy cut short), and a missing one.
[ -f "$T/revoked.krl" ] || sc -q krl -o "$T/revoked.krl" || exit 99
nk pubkey "$UKEY" > "$T/tok.pub" || exit 99
install -o "$PAM_USER" -m 600 "$T/tok.pub" "$AUTHFILE"
head -c $(($(wc -c < "$T/revoked.krl") - 3)) "$T/revoked.krl" > "$T/cut.krl"
chmod 644 "$T/cut.krl"
pam_service cutkrl "auth required $PAM_MOD $PAM_BASE token=pkcs11:token=user krl=$T/cut.krl"
expect_unavail cutkrl "cut.krl: offset [0-9]*: truncated" "a truncated KRL"
pam_service nokrl "auth required $PAM_MOD $PAM_BASE token=pkcs11:token=user krl=$T/nosuch.krl"
expect_unavail nokrl "nosuch.krl: No such file" "a missing krl= file"
# A token with a revoked key and a good one logs in with the good one; the
# revoked one alone is refused before the PIN.
nk keygen --token pkcs11:token=user --label second --id 02 \
    --pin-source env:NK_TEST_PIN >/dev/null || exit 99
nk pubkey 'pkcs11:token=user;id=%02' > "$T/second.pub"
ssh-keygen -q -k -f "$T/one.krl" "$T/tok.pub" || exit 99
chmod 644 "$T/one.krl"
cat "$T/tok.pub" "$T/second.pub" > "$AUTHFILE"
pam_service onekrl "auth required $PAM_MOD $PAM_BASE token=pkcs11:token=user krl=$T/one.krl"
pam_run onekrl authenticate "$USER_PIN\n"
expect_pam "$R_SUCCESS" "krl=: the revoked key listed first, the good one second: PAM_SUCCESS"
install -o "$PAM_USER" -m 600 "$T/tok.pub" "$AUTHFILE"
pam_run onekrl authenticate "$USER_PIN\n"
expect_pam "$R_AUTH_ERR" "krl=: the revoked key alone (ssh-keygen -k's KRL): PAM_AUTH_ERR"
grep -q "PIN for" "$T/pam.out" && fail "krl=, revoked key: the PIN was asked for" ||
    pass "krl=, revoked key: no PIN prompt"
# A CRL with the CA's name, signed by another key (openssl ca, no authority
# key id: the signature decides).
subj=$(openssl x509 -in "$T/ca.pem" -noout -subject -nameopt compat | sed 's/^subject=//')
soft_ca() {	# soft_ca NAME SUBJECT: a software CA and its openssl ca setup
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/$1.key" -out "$T/$1.crt" -subj "$2" -days 30 \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null || exit 99
	chmod 644 "$T/$1.crt"
	mkdir "$T/$1.db"
	: > "$T/$1.db/index.txt"
	printf '[ca]\ndefault_ca = c\n[c]\ndatabase = %s\ndefault_md = sha256\n' \
	    "$T/$1.db/index.txt" > "$T/$1.db/cnf"
}
gencrl() {	# gencrl CA OUT [openssl ca options]
	_ca=$1 _out=$2
	shift 2
	openssl ca -batch -config "$T/$_ca.db/cnf" -gencrl -keyfile "$T/$_ca.key" \
	    -cert "$T/$_ca.crt" -out "$_out" "$@" 2>/dev/null || exit 99
	chmod 644 "$_out"
}
soft_ca evil "$subj"
gencrl evil "$T/forged.pem" -crldays 7
pam_service forged "$BASE crl=$T/forged.pem"
expect_unavail forged "does not verify against its issuer" "a CRL signed by another key"

# Expiry needs a CRL whose nextUpdate has passed: a software CA (soft) that
# certified a second token's key, its CRLs dated by openssl ca.
soft_ca soft "/CN=soft ca"
init_token soft
nk keygen --token pkcs11:token=soft --label login --id 01 \
    --pin-source env:NK_TEST_PIN >/dev/null || exit 99
nk pubkey --format pem -o "$T/soft.pub.pem" 'pkcs11:token=soft;id=%01'
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' > "$T/leaf.ext"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/dummy.key" -subj "/CN=$PAM_USER" -out "$T/dummy.csr" 2>/dev/null
openssl x509 -req -in "$T/dummy.csr" -CA "$T/soft.crt" -CAkey "$T/soft.key" \
    -force_pubkey "$T/soft.pub.pem" -days 5 -set_serial 4242 -extfile "$T/leaf.ext" \
    -out "$T/softuser.crt" 2>/dev/null || exit 99
expect_exit 4 "import refuses a certificate for another key (exit 4)" nk import \
    --cert "$T/user.crt" --pin-source env:NK_TEST_PIN 'pkcs11:token=soft;id=%01'
expect_exit 0 "import a certificate from another CA" nk import \
    --cert "$T/softuser.crt" --pin-source env:NK_TEST_PIN 'pkcs11:token=soft;id=%01'
when() { date -u -d "$1" +%Y%m%d%H%M%SZ; }
gencrl soft "$T/fresh.pem" -crldays 1
gencrl soft "$T/stale.pem" -crl_lastupdate "$(when '2 days ago')" \
    -crl_nextupdate "$(when '1 day ago')"
gencrl soft "$T/future.pem" -crl_lastupdate "$(when '1 hour')" \
    -crl_nextupdate "$(when '2 days')"
SOFT="auth required $PAM_MOD $PAM_BASE token=pkcs11:token=soft ca=$T/soft.crt"
pam_service fresh "$SOFT crl=$T/fresh.pem"
pam_run fresh authenticate "$USER_PIN\n"
expect_pam "$R_SUCCESS" "software CA, current CRL: PAM_SUCCESS"
# The cache of verified CRLs (RUNDIR/crl): written at a login that read a
# CRL file 2 s or more after its last change, used while the CRL file is
# the same file, never after it changes.
cachefiles() { find "$RUNDIR/crl" -type f -perm 600 -user root 2>/dev/null | wc -l; }
sscrl() {	# sscrl SERIAL OUT: soft's CRL that revokes SERIAL alone
	mkdir -p "$T/ss.db"
	printf 'R\t301201000000Z\t261130000000Z\t%s\tunknown\t/CN=x\n' "$1" \
	    > "$T/ss.db/index.txt"
	printf '[ca]\ndefault_ca = c\n[c]\ndatabase = %s\ndefault_md = sha256\n' \
	    "$T/ss.db/index.txt" > "$T/ss.db/cnf"
	openssl ca -batch -config "$T/ss.db/cnf" -gencrl -keyfile "$T/soft.key" \
	    -cert "$T/soft.crt" -out "$2" -crldays 1 2>/dev/null || exit 99
}
# Two CRLs of the same size (ECDSA signatures vary by a byte or two): one
# revokes another serial, one the user's (4242 = 0x1092).
sscrl 1093 "$T/other.pem"
i=0
while sscrl 1092 "$T/revoking.pem"; [ "$(wc -c < "$T/revoking.pem")" -ne "$(wc -c < "$T/other.pem")" ]; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "no CRLs of the same size" >&2; exit 99; }
done
cp "$T/fresh.pem" "$T/cached.pem"
cp "$T/other.pem" "$T/same.pem"
cp "$T/fresh.pem" "$T/ahead.pem"
touch -d '1 hour' "$T/ahead.pem"
rm -rf "$RUNDIR/crl"
pam_service ahead "$SOFT crl=$T/ahead.pem"
pam_run ahead authenticate "$USER_PIN\n"
expect_pam "$R_SUCCESS" "cache: a CRL file dated an hour ahead: PAM_SUCCESS"
n=$(cachefiles)
[ "$n" -eq 0 ] && pass "cache: a CRL file dated in the future is not cached" ||
    fail "cache: a CRL file dated in the future was cached ($n files)"
sleep 2
pam_service cached "$SOFT crl=$T/cached.pem"
pam_run cached authenticate "$USER_PIN\n"
expect_pam "$R_SUCCESS" "cache: the first login with a CRL: PAM_SUCCESS"
n=$(cachefiles)
[ "$n" -eq 1 ] && pass "cache: one root-only file in RUNDIR/crl" ||
    fail "cache: $n files in RUNDIR/crl, wanted one root-only file"
pam_run cached authenticate "$USER_PIN\n"
expect_pam "$R_SUCCESS" "cache: a second login: PAM_SUCCESS"
# Written over in place, with the same size and the modification time set
# back: only the change time tells the new CRL from the cached one.
pam_service same "$SOFT crl=$T/same.pem"
pam_run same authenticate "$USER_PIN\n"
expect_pam "$R_SUCCESS" "cache: a CRL that revokes another serial: PAM_SUCCESS"
n=$(cachefiles)
[ "$n" -eq 2 ] && pass "cache: the second CRL file cached" ||
    fail "cache: $n files in RUNDIR/crl, wanted two"
touch -r "$T/same.pem" "$T/same.ref"
cat "$T/revoking.pem" > "$T/same.pem"
touch -r "$T/same.ref" "$T/same.pem"
pam_run same authenticate "$USER_PIN\n"
expect_pam "$R_AUTH_ERR" "cache: written over with a CRL of the same size and mtime that revokes the user: PAM_AUTH_ERR"
cat "$T/stale.pem" > "$T/cached.pem"
pam_run cached authenticate "$USER_PIN\n"
expect_pam "$R_UNAVAIL" "cache: the CRL file written over with an expired CRL: PAM_AUTHINFO_UNAVAIL"
soft_ca evilsoft "/CN=soft ca"
gencrl evilsoft "$T/forgedsoft.pem" -crldays 7
cat "$T/forgedsoft.pem" > "$T/cached.pem"
pam_run cached authenticate "$USER_PIN\n"
expect_grep "does not verify against its issuer" "$T/pam.out" \
    "cache: written over with another key's CRL: does not verify"
cat "$T/fresh.pem" > "$T/cached.pem"
sleep 2
pam_run cached authenticate "$USER_PIN\n"
for f in "$RUNDIR"/crl/c*; do printf 'not a cache' > "$f"; done
pam_run cached authenticate "$USER_PIN\n"
expect_pam "$R_SUCCESS" "cache: a damaged cache file is not used: PAM_SUCCESS"
pam_service stale "$SOFT crl=$T/stale.pem"
expect_unavail stale "expired [0-9]* s ago" "a CRL whose nextUpdate passed a day ago"
pam_service grace "$SOFT crl=$T/stale.pem crl_grace=2d"
pam_run grace authenticate "$USER_PIN\n"
expect_pam "$R_SUCCESS" "the same CRL with crl_grace=2d: PAM_SUCCESS"
expect_grep "used within crl_grace=172800s" "$T/pam.out" "crl_grace: the use is logged"
pam_service shortgrace "$SOFT crl=$T/stale.pem crl_grace=12h"
expect_unavail shortgrace "crl_grace=43200s" "the same CRL with crl_grace=12h"
pam_service future "$SOFT crl=$T/future.pem"
expect_unavail future "not valid yet" "a CRL from the future"
pam_service noissuer "$SOFT crl=$T/crl.pem"
expect_unavail noissuer "no CRL from issuer" "crl= without the issuer's CRL"
# A directory of CRLs: the other CA's and soft's; hidden files are skipped.
mkdir "$T/crls"
cp "$T/crl.pem" "$T/fresh.pem" "$T/crls/"
cp "$T/stale.pem" "$T/crls/.stale.pem.tmp"
pam_service dir "$SOFT crl=$T/crls"
pam_run dir authenticate "$USER_PIN\n"
expect_pam "$R_SUCCESS" "crl=DIR with both CAs' CRLs: PAM_SUCCESS"
chmod 664 "$T/crls/fresh.pem"
expect_unavail dir "group-writable" "a group-writable CRL in crl=DIR"
chmod 644 "$T/crls/fresh.pem"
printf 'R\t301201000000Z\t261130000000Z\t1092\tunknown\t/CN=x\n' >> "$T/soft.db/index.txt"
gencrl soft "$T/crls/fresh.pem" -crldays 1
pam_run dir authenticate "$USER_PIN\n"
expect_pam "$R_AUTH_ERR" "soft revokes serial 4242 (0x1092): PAM_AUTH_ERR"
expect_grep "revoked: certificate serial 0x1092 issuer '/CN=soft ca' revoked by CRL $T/crls/fresh.pem" \
    "$T/pam.out" "logged: serial, issuer and the CRL file"

finish
