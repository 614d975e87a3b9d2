#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# sshca-x509.sh - the X.509 side of nkhsm-sshca, checked with openssl: the CA
# certificate init makes, host and user certificates from CSRs (EC P-256,
# RSA 2048) and from bare public keys (profile, EKU, SAN, key identifiers,
# key usage, subject, key), what x509 refuses (a CSR with a bad signature,
# a host certificate without SAN, SAN types outside the profile), revocation
# through a CRL signed on the token (openssl verify -crl_check), CRL numbers,
# and serials (>= 64 random bits, distinct, revocable as openssl prints them).
. "${top_srcdir:-.}/tests/integration/common.sh"

[ -x "$SSHCA" ] || { echo "nkhsm-sshca not built"; exit 99; }
command -v openssl >/dev/null 2>&1 || { echo "skip: openssl missing"; exit 77; }

init_token ca
. "$top_srcdir/tests/integration/sshca-checks.sh"
# ext CERT NAME: the lines of one extension as openssl prints them, joined.
ext() {
	openssl x509 -in "$1" -noout -ext "$2" 2>/dev/null | sed 1d |
	    sed 's/^ *//' | paste -sd'|' -
}
serial() { openssl x509 -in "$1" -noout -serial | sed 's/^serial=//'; }
# lserial CERT: the serial as the ledger keeps it (hex, no leading zeros).
lserial() { serial "$1" | sed 's/^0*//'; }
# ledger_entry CERT: the certificate's ledger entry.
ledger_entry() { ledger | grep "\"family\":\"x509\",\"kind\":\"[a-z0-9-]*\",\"serial\":\"$(lserial "$1")\""; }
isodate() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }
# verify CERT [OPTS...]: openssl verify against the CA; its output in $T/vout.
verify() {
	c=$1
	shift
	openssl verify -CAfile "$CA" "$@" "$c" > "$T/vout" 2>&1
}

# --- the CA certificate ---------------------------------------------------------
expect_exit 0 "init" sc init --subject "CN=Test SSH CA,O=nkhsm tests"
CA="$T/state/ca.pem"
openssl x509 -in "$CA" -noout -text > "$T/ca.txt" 2>&1 || fail "ca.pem is not a certificate"
expect_eq "$(ext "$CA" basicConstraints)" "CA:TRUE" "ca.pem: CA:TRUE"
expect_grep 'X509v3 Basic Constraints: critical' "$T/ca.txt" "ca.pem: basicConstraints critical"
expect_eq "$(ext "$CA" keyUsage)" "Digital Signature, Certificate Sign, CRL Sign" \
    "ca.pem: keyUsage with keyCertSign and cRLSign"
expect_eq "$(openssl x509 -in "$CA" -noout -subject)" "subject=CN = Test SSH CA, O = nkhsm tests" \
    "ca.pem: the subject given"
expect_exit 0 "ca.pem verifies as its own trust anchor" openssl verify -CAfile "$CA" "$CA"
CA_SKI=$(ext "$CA" subjectKeyIdentifier)
[ ${#CA_SKI} -eq 59 ] && pass "ca.pem: a 20-byte subject key identifier" ||
    fail "ca.pem: subject key identifier '$CA_SKI'"
# The CA certificate's key is the token's key (the SSH CA line).
sc ca-pubkey > "$T/ca.pub" 2>/dev/null
if command -v ssh-keygen >/dev/null 2>&1; then
	openssl x509 -in "$CA" -noout -pubkey > "$T/ca.spki.pem"
	ssh-keygen -i -m PKCS8 -f "$T/ca.spki.pem" 2>/dev/null | awk '{print $2}' > "$T/ca.fromx509"
	expect_eq "$(cat "$T/ca.fromx509")" "$(awk '{print $2}' "$T/ca.pub")" \
	    "ca.pem certifies the same key as the SSH CA line"
fi

# --- CSRs -------------------------------------------------------------------------
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ec.key" \
    -subj "/CN=host1.example/O=Hosts" -out "$T/ec.csr" 2>/dev/null || exit 99
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/rsa.key" \
    -subj "/CN=host2.example" -out "$T/rsa.csr" 2>/dev/null || exit 99
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/user.key" \
    -subj "/CN=alice" -out "$T/user.csr" 2>/dev/null || exit 99
# ski_of PEMPUB: RFC 7093 method 1, the first 160 bits of SHA-256 of the key bits.
ski_of() {
	case "$(openssl pkey -pubin -in "$1" -noout -text 2>/dev/null | sed -n 2p)" in
	Modulus*) openssl rsa -pubin -in "$1" -RSAPublicKey_out -outform DER 2>/dev/null ;;
	*) openssl pkey -pubin -in "$1" -outform DER | tail -c 65 ;;
	esac | sha256sum | cut -c1-40 | tr a-f A-F | sed 's/../&:/g; s/:$//'
}

# host_checks CERT CSR KEY-USAGE DESC
host_checks() {
	cert=$1 csr=$2 ku=$3 d=$4
	verify "$cert"
	expect_grep ': OK$' "$T/vout" "$d: openssl verify -CAfile ca.pem: OK"
	verify "$cert" -purpose sslserver
	expect_grep ': OK$' "$T/vout" "$d: -purpose sslserver OK"
	verify "$cert" -purpose sslclient
	expect_grep 'unsuitable certificate purpose' "$T/vout" "$d: -purpose sslclient refused"
	expect_eq "$(ext "$cert" extendedKeyUsage)" "TLS Web Server Authentication" "$d: EKU serverAuth only"
	expect_eq "$(ext "$cert" basicConstraints)" "CA:FALSE" "$d: CA:FALSE"
	expect_eq "$(ext "$cert" keyUsage)" "$ku" "$d: keyUsage $ku"
	openssl x509 -in "$cert" -noout -pubkey > "$T/cert.pub.pem"
	openssl req -in "$csr" -noout -pubkey > "$T/csr.pub.pem"
	cmp -s "$T/cert.pub.pem" "$T/csr.pub.pem" && pass "$d: the CSR's public key" ||
	    fail "$d: the certificate's key is not the CSR's"
	ski=$(ext "$cert" subjectKeyIdentifier)
	expect_eq "$ski" "$(ski_of "$T/cert.pub.pem")" "$d: SKI present, SHA-256 of the key (RFC 7093)"
	expect_eq "$(ext "$cert" authorityKeyIdentifier)" "$CA_SKI" "$d: AKI equals the CA's SKI"
	expect_eq "$(openssl x509 -in "$cert" -noout -issuer | sed 's/^issuer=//')" \
	    "$(openssl x509 -in "$CA" -noout -subject | sed 's/^subject=//')" "$d: issuer is the CA's subject"
	s=$(serial "$cert")
	case "$(ledger_entry "$cert")" in
	*'"family":"x509","kind":"x509-host"'*) pass "$d: serial $s in the ledger as x509-host" ;;
	*) fail "$d: serial $s not in the ledger as x509-host" ;;
	esac
	nbf=$(isodate "$(openssl x509 -in "$cert" -noout -startdate | sed 's/^notBefore=//')")
	naf=$(isodate "$(openssl x509 -in "$cert" -noout -enddate | sed 's/^notAfter=//')")
	case "$(ledger_entry "$cert")" in
	*"\"valid_after\":\"$nbf\",\"valid_before\":\"$naf\""*)
		pass "$d: the ledger has the certificate's notBefore/notAfter" ;;
	*) fail "$d: ledger validity is not $nbf..$naf: $(ledger_entry "$cert")" ;;
	esac
}

expect_exit 0 "x509 --csr (EC P-256) --profile host" sc x509 --csr "$T/ec.csr" --profile host \
    --san DNS:host1.example,DNS:www.host1.example,IP:192.0.2.10 -o "$T/ec.pem"
host_checks "$T/ec.pem" "$T/ec.csr" "Digital Signature" "EC host"
expect_eq "$(ext "$T/ec.pem" subjectAltName)" \
    "DNS:host1.example, DNS:www.host1.example, IP Address:192.0.2.10" "EC host: SAN as given"
expect_eq "$(openssl x509 -in "$T/ec.pem" -noout -subject)" "subject=CN = host1.example, O = Hosts" \
    "EC host: the CSR's subject"
nb=$(date -u -d "$(openssl x509 -in "$T/ec.pem" -noout -startdate | sed 's/^notBefore=//')" +%s)
na=$(date -u -d "$(openssl x509 -in "$T/ec.pem" -noout -enddate | sed 's/^notAfter=//')" +%s)
expect_eq "$((na - nb))" "$((365 * 86400))" "EC host: valid 365 days by default"

expect_exit 0 "x509 --csr (RSA 2048) --profile host --days 30" sc x509 --csr "$T/rsa.csr" \
    --profile host --san DNS:host2.example,IP:2001:db8::2 --days 30 -o "$T/rsa.pem"
host_checks "$T/rsa.pem" "$T/rsa.csr" "Digital Signature, Key Encipherment" "RSA host"
expect_eq "$(ext "$T/rsa.pem" subjectAltName)" "DNS:host2.example, IP Address:2001:DB8:0:0:0:0:0:2" \
    "RSA host: SAN as given (IPv6)"
nb=$(date -u -d "$(openssl x509 -in "$T/rsa.pem" -noout -startdate | sed 's/^notBefore=//')" +%s)
na=$(date -u -d "$(openssl x509 -in "$T/rsa.pem" -noout -enddate | sed 's/^notAfter=//')" +%s)
expect_eq "$((na - nb))" "$((30 * 86400))" "RSA host: --days 30"
expect_exit 0 "x509 --subject overrides the CSR's" sc x509 --csr "$T/ec.csr" --profile host \
    --san DNS:h.example --subject "CN=override.example" -o "$T/ovr.pem"
expect_eq "$(openssl x509 -in "$T/ovr.pem" -noout -subject)" "subject=CN = override.example" \
    "--subject: used instead of the CSR's"

# --- the user profile -----------------------------------------------------------------
expect_exit 0 "x509 --profile user --san email:" sc x509 --csr "$T/user.csr" --profile user \
    --san email:alice@example.com -o "$T/user.pem"
verify "$T/user.pem" -purpose sslclient
expect_grep ': OK$' "$T/vout" "user: -purpose sslclient OK"
verify "$T/user.pem" -purpose sslserver
expect_grep 'unsuitable certificate purpose' "$T/vout" "user: -purpose sslserver refused"
expect_eq "$(ext "$T/user.pem" extendedKeyUsage)" "TLS Web Client Authentication" "user: EKU clientAuth only"
expect_eq "$(ext "$T/user.pem" subjectAltName)" "email:alice@example.com" "user: SAN email as given"
case "$(ledger_entry "$T/user.pem")" in
*'"kind":"x509-user"'*'"principals":"email:alice@example.com"'*) pass "user: in the ledger as x509-user with its SAN" ;;
*) fail "user: not in the ledger as x509-user" ;;
esac
expect_exit 0 "x509 --profile user without --san" sc x509 --csr "$T/user.csr" --profile user \
    -o "$T/user2.pem"
verify "$T/user2.pem" -purpose sslclient
expect_grep ': OK$' "$T/vout" "user without SAN: -purpose sslclient OK"
expect_eq "$(ext "$T/user2.pem" subjectAltName)" "" "user without SAN: no SAN extension"

# --- --pubkey PEM --subject -----------------------------------------------------------
openssl pkey -in "$T/ec.key" -pubout -out "$T/ec.pub.pem" 2>/dev/null || exit 99
expect_exit 0 "x509 --pubkey PEM --subject" sc x509 --pubkey "$T/ec.pub.pem" \
    --subject "CN=bare.example,O=Bare" --profile host --san DNS:bare.example -o "$T/bare.pem"
verify "$T/bare.pem" -purpose sslserver
expect_grep ': OK$' "$T/vout" "--pubkey: verifies, sslserver"
expect_eq "$(openssl x509 -in "$T/bare.pem" -noout -subject)" "subject=CN = bare.example, O = Bare" \
    "--pubkey: the subject given"
openssl x509 -in "$T/bare.pem" -noout -pubkey > "$T/bare.pub.pem"
cmp -s "$T/bare.pub.pem" "$T/ec.pub.pem" && pass "--pubkey: the key given" ||
    fail "--pubkey: the certificate's key is not the one given"
expect_exit 2 "--pubkey without --subject refused" sc x509 --pubkey "$T/ec.pub.pem" \
    --profile host --san DNS:bare.example -o "$T/nosubj.pem"

# --- refusals: no file, no ledger entry ----------------------------------------------
n0=$(ledger_count)
openssl req -in "$T/ec.csr" -outform DER -out "$T/ec.csr.der" 2>/dev/null || exit 99
n=$(wc -c < "$T/ec.csr.der")
last=$(tail -c 1 "$T/ec.csr.der" | od -An -tu1 | tr -d ' ')
{ head -c $((n - 1)) "$T/ec.csr.der"; printf "\\$(printf '%03o' $((last ^ 1)))"; } > "$T/bad.csr.der"
openssl req -inform DER -in "$T/bad.csr.der" -noout 2>/dev/null &&
    pass "the altered CSR still parses (only its signature is wrong)" ||
    fail "the altered CSR does not parse: the test is not testing the signature"
expect_exit 8 "a CSR with a bad signature -> 8" sc x509 --csr "$T/bad.csr.der" --profile host \
    --san DNS:host1.example -o "$T/bad.pem"
expect_grep 'signature does not verify' "$T/err" "bad CSR: the message says the signature"
[ -e "$T/bad.pem" ] && fail "bad CSR: an output file was written" || pass "bad CSR: no output file"
expect_exit 0 "the unaltered DER CSR is accepted" sc x509 --csr "$T/ec.csr.der" --profile host \
    --san DNS:host1.example -o "$T/der.pem"
n0=$((n0 + 1))
expect_exit 2 "a host certificate without --san refused" sc x509 --csr "$T/ec.csr" --profile host \
    -o "$T/nosan.pem"
expect_grep 'needs --san' "$T/err" "no SAN: the message asks for --san"
expect_exit 2 "--profile host with an email SAN refused" sc x509 --csr "$T/ec.csr" --profile host \
    --san email:a@example.com -o "$T/nosan.pem"
expect_exit 2 "--profile user with a DNS SAN refused" sc x509 --csr "$T/user.csr" --profile user \
    --san DNS:alice.example -o "$T/nosan.pem"
expect_exit 2 "--profile other refused" sc x509 --csr "$T/ec.csr" --profile ca \
    --san DNS:a.example -o "$T/nosan.pem"
expect_exit 2 "a SAN item without a type refused" sc x509 --csr "$T/ec.csr" --profile host \
    --san host1.example -o "$T/nosan.pem"
openssl req -new -newkey rsa:1024 -nodes -keyout "$T/r1024.key" -subj "/CN=weak" \
    -out "$T/r1024.csr" 2>/dev/null
expect_exit 2 "an RSA 1024 CSR refused" sc x509 --csr "$T/r1024.csr" --profile host \
    --san DNS:weak.example -o "$T/nosan.pem"
printf 'not a csr\n' > "$T/garbage.csr"
expect_exit 2 "a file that is not a CSR refused" sc x509 --csr "$T/garbage.csr" --profile host \
    --san DNS:a.example -o "$T/nosan.pem"
expect_exit 2 "x509 without -o refused" sc x509 --csr "$T/ec.csr" --profile host --san DNS:a.example
[ -e "$T/nosan.pem" ] && fail "refusals: an output file was written" || pass "refusals: no output file"
[ "$(ledger_count)" -eq "$n0" ] && pass "refusals: no ledger entry" ||
    fail "refusals: the ledger grew by $(( $(ledger_count) - n0 ))"

# --- revocation and the CRL -------------------------------------------------------------
expect_exit 0 "crl -o (nothing revoked)" sc crl -o "$T/crl0.pem"
N0=$(crlnum "$T/crl0.pem")
expect_exit 0 "the CRL verifies with ca.pem" openssl crl -in "$T/crl0.pem" -CAfile "$CA" -noout
expect_eq "$(openssl crl -in "$T/crl0.pem" -noout -text | grep -c 'Serial Number:')" 0 "empty CRL: no entries"
RS=$(serial "$T/ec.pem")
expect_exit 0 "revoke 0x$RS" sc revoke "0x$RS" --reason keyCompromise
expect_exit 4 "revoke 0x$RS again -> 4" sc revoke "0x$RS"
expect_exit 0 "crl -o after the revocation" sc crl -o "$T/crl1.pem"
N1=$(crlnum "$T/crl1.pem")
[ -n "$N0" ] && [ -n "$N1" ] && [ $((0x$N1)) -gt $((0x$N0)) ] &&
    pass "the CRL number increases (0x$N0 -> 0x$N1)" || fail "CRL numbers '$N0' then '$N1'"
check_crl "$T/crl1.pem" "$CA" "$CA_SKI" "$T/ec.pem" "$T/rsa.pem"
case "$(ledger_entry "$T/ec.pem")" in
*'"revoked":true'*) pass "the ledger marks $RS revoked" ;;
*) fail "the ledger does not mark $RS revoked" ;;
esac
expect_exit 0 "crl -o again" sc crl -o "$T/crl2.pem"
N2=$(crlnum "$T/crl2.pem")
[ -n "$N2" ] && [ $((0x$N2)) -gt $((0x$N1)) ] && pass "the CRL number increases again (0x$N2)" ||
    fail "CRL number '$N2' after '$N1'"
expect_exit 2 "crl without -o refused" sc crl

# --- serials ------------------------------------------------------------------------------
# 20 issuances: >= 64 bits (16 hex digits or more), positive, distinct; and
# more until one serial's hex form (as openssl and list print it) starts with
# 0 (1 in 8): revoking it as printed must work too.
: > "$T/serials"
i=0 zero=
while [ $i -lt 80 ]; do
	i=$((i + 1))
	sc -q x509 --csr "$T/user.csr" --profile user -o "$T/s$i.pem" || { fail "issuance $i failed"; break; }
	s=$(serial "$T/s$i.pem")
	echo "$s" >> "$T/serials"
	case "$s" in 0*) [ -z "$zero" ] && zero=$i ;; esac
	[ $i -ge 20 ] && [ -n "$zero" ] && break
done
short=$(head -20 "$T/serials" | awk 'length($0) < 16' | wc -l)
expect_eq "$short" 0 "20 serials: all at least 16 hex digits (64 bits)"
expect_eq "$(head -20 "$T/serials" | sort -u | wc -l)" 20 "20 serials: all distinct"
neg=$(for j in $(seq 1 20); do openssl x509 -in "$T/s$j.pem" -noout -text |
    grep -A1 'Serial Number:' | grep -c '(Negative)'; done | awk '{s += $1} END {print s + 0}')
expect_eq "$neg" 0 "20 serials: none negative"
bits=$(head -20 "$T/serials" | awk '{ print length($0) * 4 }' | sort -n | tail -1)
[ "$bits" -ge 64 ] && pass "serials up to $bits bits" || fail "serials only $bits bits"
if [ -n "$zero" ]; then
	zs=$(serial "$T/s$zero.pem")
	expect_exit 0 "revoke 0x$zs (openssl prints a leading 0) -> 0" sc revoke "0x$zs"
	if grep -q '^revoked' "$T/err"; then
		sc -q crl -o "$T/crl3.pem" || fail "crl after that revocation failed"
		cat "$CA" "$T/crl3.pem" > "$T/chain+crl3.pem"
		openssl verify -crl_check -CAfile "$T/chain+crl3.pem" "$T/s$zero.pem" > "$T/vout" 2>&1
		grep -q 'certificate revoked' "$T/vout" &&
		    pass "a serial with a leading zero digit is revoked in the CRL" ||
		    fail "the certificate with serial $zs is not revoked by the CRL"
	fi
else
	fail "no serial with a leading 0 digit in 80 issuances (expected 1 in 8)"
fi
expect_exit 0 "verify-log" sc verify-log

finish
