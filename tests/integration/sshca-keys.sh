#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# sshca-keys.sh - nkhsm-sshca certifies no key that no one should accept.
# Every Ed25519 encoding of a point of small order (the 8 points, each in
# every encoding that decodes to it), non-canonical encodings (y >= p), a y
# off the curve, and RSA keys with public exponent 1 or even, are refused by
# sign, x509 --pubkey and x509 --csr with status 2 and a message naming the
# file and the reason, and leave no certificate and no ledger entry. The
# keys come from tests/integration/badkeys.py (vectors derived from the
# curve by tests/unit/ed25519_torsion.py); for each request openssl first
# shows that its forged signature verifies, made without any private key.
# Good keys from ssh-keygen and openssl are still certified, and the
# certificates pass ssh-keygen -L and openssl verify.
. "${top_srcdir:-.}/tests/integration/common.sh"
. "$top_srcdir/tests/integration/sshca-checks.sh"

[ -x "$SSHCA" ] || { echo "nkhsm-sshca not built"; exit 99; }
command -v ssh-keygen >/dev/null 2>&1 || { echo "skip: ssh-keygen missing"; exit 77; }
command -v openssl >/dev/null 2>&1 || { echo "skip: openssl missing"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "skip: python3 missing"; exit 77; }

init_token ca
sc init > "$T/ca.pub" 2>/dev/null || { echo "init failed"; exit 99; }

# --- good keys are still certified ------------------------------------------
ssh-keygen -q -t ed25519 -N '' -C good-ed -f "$T/good-ed" || exit 99
ssh-keygen -q -t rsa -b 2048 -N '' -C good-rsa -f "$T/good-rsa" || exit 99
ssh-keygen -q -t ecdsa -b 256 -N '' -C good-ec -f "$T/good-ec" || exit 99
for k in good-ed good-rsa good-ec; do
	expect_exit 0 "sign $k (ssh-keygen's key)" sc sign --user -I "$k" -n u -V +1h \
	    "$T/$k.pub"
	ssh-keygen -L -f "$T/$k-cert.pub" > "$T/L" 2>&1 &&
	    pass "$k: ssh-keygen -L reads the certificate" ||
	    fail "$k: ssh-keygen -L: $(head -1 "$T/L")"
done
openssl genpkey -algorithm ed25519 -out "$T/x.key" 2>/dev/null &&
    openssl pkey -in "$T/x.key" -pubout -out "$T/x.pem" 2>/dev/null || exit 99
expect_exit 0 "x509 --pubkey: openssl's Ed25519 key" sc x509 --pubkey "$T/x.pem" \
    --subject CN=good-ed -o "$T/x.crt"
openssl verify -CAfile "$T/state/ca.pem" "$T/x.crt" > "$T/v" 2>&1 &&
    pass "x509 Ed25519 certificate: openssl verify OK" ||
    fail "openssl verify: $(cat "$T/v")"
n0=$(ledger_count)

# --- the keys no one should certify -------------------------------------------
mkdir "$T/bad"
python3 "$top_srcdir/tests/integration/badkeys.py" "$T/bad" "$T/good-rsa.pub" ||
    { echo "badkeys.py failed"; exit 99; }
# refused NAME DESC REASON CMD...: status 2, the file and REASON named, nothing written.
refused() {
	f=$1 d=$2 why=$3
	shift 3
	expect_exit 2 "$d refused -> 2" "$@"
	if grep -q -- "$f" "$T/err" && grep -q -- "$why" "$T/err"; then
		pass "$d: the message names the file and '$why'"
	else
		fail "$d: message '$(cat "$T/err")', wanted $f and '$why'"
	fi
}
reason() {
	case $1 in
	*noncanonical* | *y_plus_p*) echo "not canonically encoded (y >= p)" ;;
	ed_order*) o=${1#ed_order}; echo "small order (order ${o%%_*})" ;;
	*off_curve*) echo "not a point on the curve" ;;
	rsa_e1) echo "public exponent 1" ;;
	rsa_e65536) echo "even public exponent" ;;
	esac
}
nsign=0 npem=0 ncsr=0 nforged=0
for pub in "$T"/bad/*.pub; do
	b=$(basename "$pub" .pub)
	why=$(reason "$b")
	[ -n "$why" ] || { fail "$b: no expected reason"; continue; }
	refused "$b.pub" "sign $b" "$why" sc sign --user -I "$b" -n u -V +1h "$pub"
	[ -e "$T/bad/$b-cert.pub" ] && fail "sign $b: a certificate was written"
	nsign=$((nsign + 1))
	refused "$b.pem" "x509 --pubkey $b.pem" "$why" sc x509 --pubkey "$T/bad/$b.pem" \
	    --subject "CN=$b" -o "$T/bad/$b.crt"
	npem=$((npem + 1))
	if [ -e "$T/bad/$b.csr" ]; then
		# The peer shows the danger: the forged request verifies.
		openssl req -in "$T/bad/$b.csr" -verify -noout > "$T/v" 2>&1 &&
		    nforged=$((nforged + 1))
		refused "$b.csr" "x509 --csr $b.csr" "$why" sc x509 --csr "$T/bad/$b.csr" \
		    -o "$T/bad/$b.crt"
		ncsr=$((ncsr + 1))
	fi
	[ -e "$T/bad/$b.crt" ] && fail "x509 $b: a certificate was written"
done
echo "# refused: $nsign keys by sign, $npem by x509 --pubkey, $ncsr requests ($nforged with a forged signature openssl verifies)"
[ "$nsign" -eq 19 ] && pass "19 bad keys tried (16 Ed25519 encodings, 1 off the curve, 2 RSA)" ||
    fail "$nsign bad keys tried, wanted 19"
[ "$ncsr" -eq 15 ] && [ "$nforged" -eq 15 ] &&
    pass "15 forged requests (14 small-order Ed25519, RSA e=1), each verified by openssl" ||
    fail "$ncsr requests, $nforged verified by openssl: wanted 15 and 15"
[ "$(ledger_count)" -eq "$n0" ] && pass "no refused key reached the ledger" ||
    fail "the ledger grew from $n0 to $(ledger_count)"

# A key of small order certified by an older version can still be revoked.
expect_exit 0 "revoke --key of a small-order key (for old certificates)" sc revoke \
    --key "$T/bad/ed_order1_point0.pub"
expect_exit 0 "the ledger still verifies" sc verify-log

finish
