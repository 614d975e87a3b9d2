#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# tool-formats.sh - every nkhsm-tool output format, checked by a real peer:
# ssh-keygen -D/-l for OpenSSH keys, openssl for PEM keys, certificates and
# signatures, pkcs11-tool for the certificate stored on the token.
. "${top_srcdir:-.}/tests/integration/common.sh"

init_token fmt
. "$top_srcdir/tests/integration/tool-checks.sh"

for curve in p256 p384 p521; do
	case $curve in p256) id=01 ;; p384) id=02 ;; p521) id=03 ;; esac
	check_keygen $curve $id "key $curve" "pkcs11:token=fmt;.*object=key%20$curve;id=%$id"
done
token_ssh_keys
for curve in p256 p384 p521; do
	case $curve in p256) id=01 ca= ;; p384) id=02 ca=--ca ;; p521) id=03 ca= ;; esac
	uri="pkcs11:token=fmt;id=%$id"
	check_pubkey $curve "$uri"
	check_fingerprint $curve "$uri"
	check_selfsign $curve "$uri" $id $ca
	check_store_again $curve "$uri"
	check_sign $curve "$uri"
	check_sign_formats $curve "$uri"
	[ $curve = p256 ] || continue
	# Inputs around the reader's buffer sizes, from a file and from stdin:
	# the signature covers every byte (openssl reads the file itself).
	sizes="0 4095 4096 4097 70000"
	[ -n "$VG" ] && sizes="4095 4096 4097"
	for n in $sizes; do
		head -c $n /dev/urandom > "$T/msg.$n"
		nk sign --pin-source env:NK_TEST_PIN -i "$T/msg.$n" -o "$T/f.$n.sig" "$uri" &&
		    nk sign --pin-source env:NK_TEST_PIN -o "$T/s.$n.sig" "$uri" < "$T/msg.$n" &&
		    openssl dgst -sha256 -verify "$T/$curve.pem" -signature "$T/f.$n.sig" \
		    "$T/msg.$n" >/dev/null 2>&1 &&
		    openssl dgst -sha256 -verify "$T/$curve.pem" -signature "$T/s.$n.sig" \
		    "$T/msg.$n" >/dev/null 2>&1 &&
		    pass "$curve: a $n-byte input, from a file and from stdin, is signed whole" ||
		    fail "$curve: a $n-byte input is not signed whole"
	done
done

# Machine-readable output parses and says what the human output says.
check_list_status fmt

# A key id chosen automatically is 8 random bytes (tool-keygen checks more).
check_keygen_autoid

# Many signatures: r or s with a leading zero byte shows up in about 1 in
# 128; the SSH (mpint) and DER encodings must survive them.
printf 'short r/s' > "$T/m"
bad=0
n=0
nsig=150
[ -n "$VG" ] && nsig=10	# memory checks need few; the short r/s odds need many
while [ $n -lt $nsig ]; do
	n=$((n + 1))
	nk sign --format ssh --pin-source env:NK_TEST_PIN -i "$T/m" -o "$T/s" 'pkcs11:token=fmt;id=%01' || bad=$((bad + 1))
	nk verify --format ssh -i "$T/m" --signature "$T/s" --pubkey "$T/p256.ssh.pub" >/dev/null || bad=$((bad + 1))
done
if [ $bad -eq 0 ]; then pass "$nsig SSH signatures all verify"; else fail "$bad of $nsig SSH signatures failed"; fi

finish
