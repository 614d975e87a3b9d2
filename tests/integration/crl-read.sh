#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# crl-read.sh - lib/crl.c, the CRL reader pam_nkhsm's crl= uses, against
# openssl on CRLs that openssl ca writes: the same revoked serials, the same
# thisUpdate and nextUpdate, and a signature good exactly when openssl crl
# -CAfile says "verify OK" (EC, RSA and Ed25519 CAs, v1 and v2 CRLs, PEM
# and DER, 10,000 entries, a CRL signed by another key with the same name).
# Then what it refuses: partitioned CRLs, other PEM blocks, text around
# them, truncated DER.
. "${top_srcdir:-.}/tests/integration/common.sh"

CC_="$top_builddir/tests/unit/revcheck"
[ -x "$CC_" ] || { echo "revcheck not built"; exit 99; }
command -v openssl >/dev/null 2>&1 || { echo "skip: openssl missing"; exit 77; }
cd "$T" || exit 99

# ca NAME KEYSPEC...: a CA certificate and an openssl ca directory for it.
ca() {
	name=$1
	shift
	mkdir "$name"
	openssl req -x509 -new "$@" -nodes -keyout "$name/key" -out "$name/crt" \
	    -subj "/CN=crl test/O=nkhsm" -days 30 \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null || exit 99
	: > "$name/index.txt"
	echo 01 > "$name/crlnumber"
	cat > "$name/cnf" <<EOF
[ca]
default_ca = c
[c]
database = $T/$name/index.txt
crlnumber = $T/$name/crlnumber
default_md = ${MD:-sha256}
default_crl_days = 7
[v2]
authorityKeyIdentifier = keyid:always
[idp]
issuingDistributionPoint = critical, @idpsec
[idpsec]
fullname = URI:http://example.com/a.crl
EOF
}
# revoke CA SERIAL [REASON]: an index.txt line for a revoked certificate.
revoke() {
	printf 'R\t301201000000Z\t261130000000Z%s\t%s\tunknown\t/CN=%s\n' \
	    "${3:+,$3}" "$2" "$2" >> "$1/index.txt"
}
# gencrl CA OUT [openssl ca options]
gencrl() {
	c=$1 out=$2
	shift 2
	openssl ca -batch -config "$c/cnf" -gencrl -keyfile "$c/key" \
	    -cert "$c/crt" -out "$out" "$@" 2>/dev/null || exit 99
}
# agree CRL CA DESC: revcheck crl and openssl crl agree on the CRL.
agree() {
	crl=$1 c=$2 desc=$3
	form=PEM
	[ "$(head -c 1 "$crl" | od -An -tx1 | tr -d ' ')" = 30 ] && form=DER
	want_sig=BAD
	openssl crl -inform $form -in "$crl" -noout -CAfile "$c/crt" 2>&1 |
	    grep -q '^verify OK' && want_sig=good
	serials=$(openssl crl -inform $form -in "$crl" -noout -text |
	    awk '/Serial Number:/ {print $3}' | sort)
	others="7 7F 0100 $(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
	"$CC_" crl "$crl" "$c/crt" $serials $others > "$T/cc.out" 2> "$T/cc.err" || {
		fail "$desc: refused: $(cat "$T/cc.err")"
		return
	}
	got=$(grep ': REVOKED$' "$T/cc.out" | sed 's/: REVOKED$//' | sort)
	last=$(openssl crl -inform $form -in "$crl" -noout -lastupdate -dateopt iso_8601 |
	    sed 's/^lastUpdate=//')
	next=$(openssl crl -inform $form -in "$crl" -noout -nextupdate -dateopt iso_8601 |
	    sed 's/^nextUpdate=//')
	times="thisUpdate $(date -u -d "$last" +%s), nextUpdate $(date -u -d "$next" +%s)"
	if [ "$got" = "$serials" ] && grep -q "^signature: $want_sig\$" "$T/cc.out" &&
	    grep -q "entries, $times\$" "$T/cc.out"; then
		pass "$desc ($(echo $serials | wc -w) revoked, signature $want_sig)"
	else
		fail "$desc: revoked '$(echo $got)', openssl '$(echo $serials)'; wanted signature $want_sig, $times"
		sed 's/^/  | /' "$T/cc.out" | head -3
	fi
}
# refused FILE CA PATTERN DESC
refused() {
	if "$CC_" crl "$1" "$2/crt" > "$T/cc.out" 2> "$T/cc.err"; then
		fail "$4: accepted"
	elif grep -q -- "$3" "$T/cc.err"; then
		pass "$4"
	else
		fail "$4: refused for another reason: $(cat "$T/cc.err")"
	fi
}

ca ec -newkey ec -pkeyopt ec_paramgen_curve:P-256
revoke ec 0A keyCompromise
revoke ec FF01
revoke ec 00D2C4A1B3E5F70911 superseded
gencrl ec v2.pem -crlexts v2
agree v2.pem ec "openssl ca v2 CRL (PEM, crlNumber, authority key id, reasons), EC CA"
openssl crl -in v2.pem -outform DER -out v2.der
agree v2.der ec "the same CRL in DER"
gencrl ec v1.pem
agree v1.pem ec "openssl ca v1 CRL (no extensions)"
: > ec/index.txt
gencrl ec empty.pem -crlexts v2 -crlhours 1
agree empty.pem ec "a CRL without entries, valid for an hour"
cat v2.pem v1.pem > two.pem
"$CC_" crl two.pem ec/crt 0A > "$T/cc.out" 2>&1 &&
    [ "$(grep -c '^crl [0-9]*:' "$T/cc.out")" -eq 2 ] &&
    pass "two PEM blocks in a file: both read" || fail "two PEM blocks: $(head -2 "$T/cc.out")"

# Another key, the same name: the signature must not verify.
ca forged -newkey ec -pkeyopt ec_paramgen_curve:P-256
revoke forged 0A
gencrl forged forged.pem -crlexts v2
agree forged.pem ec "a CRL with the CA's name signed by another key"

ca rsa -newkey rsa:2048
revoke rsa 0B
gencrl rsa rsa.pem -crlexts v2
agree rsa.pem rsa "RSA CA (sha256WithRSAEncryption)"
MD=default ca ed -newkey ed25519
revoke ed 0C
gencrl ed ed.pem -crlexts v2
agree ed.pem ed "Ed25519 CA"
MD=sha384 ca ec384 -newkey ec -pkeyopt ec_paramgen_curve:P-384
revoke ec384 0D
gencrl ec384 ec384.pem -crlexts v2
agree ec384.pem ec384 "P-384 CA (ecdsa-with-SHA384)"

# 10,000 entries: every one found.
: > ec/index.txt
od -An -N80000 -tx8 /dev/urandom | tr -s ' ' '\n' | grep . | tr a-f A-F |
    sed 's/^0*//' | sort -u | while read -r s; do
	[ -n "$s" ] && printf 'R\t301201000000Z\t261130000000Z\t%s\tunknown\t/CN=x\n' \
	    "$( [ $(( ${#s} % 2 )) -eq 1 ] && echo "0$s" || echo "$s")"
done > ec/index.txt
gencrl ec big.pem -crlexts v2
agree big.pem ec "10,000 entries from openssl ca: all found, none more"

# --- refused -----------------------------------------------------------------------
gencrl ec idp.pem -crlexts idp
refused idp.pem ec "issuingDistributionPoint" "a partitioned CRL (issuingDistributionPoint) is refused"
cat ec/crt v2.pem > withcert.pem
refused withcert.pem ec "other than X509 CRL" "a PEM file with a certificate block is refused"
{ echo "CRL of the test CA"; cat v2.pem; } > text.pem
refused text.pem ec "text outside a PEM block" "text before the PEM block is refused"
head -c 100 v2.der > cut.der
refused cut.der ec "not one DER CRL" "a truncated DER CRL is refused"
{ cat v2.der; printf '\0'; } > tail.der
refused tail.der ec "not one DER CRL" "a DER CRL with a byte after it is refused"
sed '3d' v2.pem > hole.pem
refused hole.pem ec "not one DER CRL" "a PEM CRL with a line missing is refused"
finish
