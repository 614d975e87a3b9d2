#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# tool-formats.sh - every nkhsm-tool output format, checked by a real peer:
# ssh-keygen -D/-l for OpenSSH keys, openssl for PEM keys, certificates and
# signatures, pkcs11-tool for the certificate stored on the token.
. "${top_srcdir:-.}/tests/integration/common.sh"

init_token fmt
i=0
for curve in p256 p384 p521; do
	i=$((i + 1))
	id=0$i
	case $curve in
	p256) sha=sha256 bytes=32 ;;
	p384) sha=sha384 bytes=48 ;;
	p521) sha=sha512 bytes=66 ;;
	esac
	uri="pkcs11:token=fmt;id=%$id"

	expect_exit 0 "$curve: keygen" nk keygen --curve $curve --label "key $curve" \
	    --id $id --pin-source env:NK_TEST_PIN
	expect_grep "pkcs11:token=fmt;.*object=key%20$curve;id=%$id" "$T/out" \
	    "$curve: keygen prints the key's URI"

	# OpenSSH line: ssh-keygen -D reads the same key from the token.
	nk pubkey --format ssh "$uri" > "$T/$curve.ssh.pub"
	ssh-keygen -D "$SOFTHSM_MODULE" 2>/dev/null | awk '{print $1, $2}' > "$T/sshkeygen-D"
	if grep -qxF "$(awk '{print $1, $2}' "$T/$curve.ssh.pub")" "$T/sshkeygen-D"; then
		pass "$curve: pubkey --format ssh equals ssh-keygen -D"
	else
		fail "$curve: pubkey --format ssh not in ssh-keygen -D output"
	fi
	# Fingerprint: as ssh-keygen -l prints it.
	want=$(ssh-keygen -l -E sha256 -f "$T/$curve.ssh.pub" | awk '{print $2}')
	got=$(nk pubkey --format fingerprint "$uri")
	if [ -n "$want" ] && [ "$want" = "$got" ]; then
		pass "$curve: fingerprint equals ssh-keygen -l"
	else
		fail "$curve: fingerprint '$got' != ssh-keygen -l '$want'"
	fi
	# PEM: openssl parses it and it is the same key as the OpenSSH line.
	nk pubkey --format pem -o "$T/$curve.pem" "$uri"
	ssh-keygen -e -m PKCS8 -f "$T/$curve.ssh.pub" > "$T/$curve.fromssh.pem" 2>/dev/null
	if openssl pkey -pubin -in "$T/$curve.pem" -noout 2>/dev/null &&
	    [ "$(openssl pkey -pubin -in "$T/$curve.pem" -outform DER | od -An -tx1)" = \
	      "$(openssl pkey -pubin -in "$T/$curve.fromssh.pem" -outform DER | od -An -tx1)" ]; then
		pass "$curve: PEM parses and equals the OpenSSH key"
	else
		fail "$curve: PEM differs from the OpenSSH key"
	fi

	# Self-signed certificate: openssl verifies it; its key is the token key;
	# the copy stored on the token is byte-identical.
	if [ $curve = p384 ]; then ca=--ca; else ca=; fi
	expect_exit 0 "$curve: selfsign $ca" nk selfsign --subject "CN=test $curve,O=nkhsm" \
	    --days 30 $ca --store --pin-source env:NK_TEST_PIN "$uri" -o "$T/$curve.crt"
	if openssl verify -CAfile "$T/$curve.crt" "$T/$curve.crt" >/dev/null 2>&1; then
		pass "$curve: openssl verify accepts the self-signed certificate"
	else
		fail "$curve: openssl verify rejects the certificate"
	fi
	openssl x509 -in "$T/$curve.crt" -noout -pubkey > "$T/$curve.crtpub.pem"
	if cmp -s "$T/$curve.crtpub.pem" "$T/$curve.pem"; then
		pass "$curve: certificate key equals the token key"
	else
		fail "$curve: certificate key differs from the token key"
	fi
	openssl x509 -in "$T/$curve.crt" -noout -text > "$T/$curve.crt.txt"
	expect_grep "Signature Algorithm: ecdsa-with-SHA$(echo $sha | tr -d sha)" "$T/$curve.crt.txt" \
	    "$curve: certificate signed with the curve's hash"
	if [ -n "$ca" ]; then
		expect_grep "CA:TRUE" "$T/$curve.crt.txt" "$curve: --ca sets CA:TRUE"
		expect_grep "Certificate Sign" "$T/$curve.crt.txt" "$curve: --ca sets keyCertSign"
	else
		expect_grep "CA:FALSE" "$T/$curve.crt.txt" "$curve: end entity has CA:FALSE"
		expect_grep "TLS Web Client Authentication" "$T/$curve.crt.txt" "$curve: end entity is clientAuth"
	fi
	pkcs11-tool --module "$SOFTHSM_MODULE" --read-object --type cert --id $id \
	    -o "$T/$curve.token.der" >/dev/null 2>&1
	openssl x509 -in "$T/$curve.crt" -outform DER -out "$T/$curve.crt.der"
	if cmp -s "$T/$curve.token.der" "$T/$curve.crt.der"; then
		pass "$curve: certificate stored on the token (read back by pkcs11-tool)"
	else
		fail "$curve: certificate on the token differs or is missing"
	fi
	expect_exit 9 "$curve: storing a second certificate for the key is refused" \
	    nk selfsign --subject "CN=again" --days 1 --store --pin-source env:NK_TEST_PIN \
	    "$uri" -o "$T/$curve.again.crt"

	# Signatures: DER checked by openssl, raw by length, ssh by our verifier
	# against the OpenSSH public key line.
	head -c 5000 /dev/urandom > "$T/msg"
	expect_exit 0 "$curve: sign (der)" nk sign --pin-source env:NK_TEST_PIN -i "$T/msg" \
	    -o "$T/$curve.sig" "$uri"
	if openssl dgst -$sha -verify "$T/$curve.pem" -signature "$T/$curve.sig" "$T/msg" >/dev/null 2>&1; then
		pass "$curve: openssl dgst -$sha -verify accepts the signature"
	else
		fail "$curve: openssl rejects the signature"
	fi
	# Inputs around the reader's buffer sizes, from a file and from stdin:
	# the signature covers every byte (openssl reads the file itself).
	sizes="0 4095 4096 4097 70000"
	[ -n "$VG" ] && sizes="4095 4096 4097"
	if [ "$curve" = p256 ]; then
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
	fi
	printf 'x' >> "$T/msg"
	if openssl dgst -$sha -verify "$T/$curve.pem" -signature "$T/$curve.sig" "$T/msg" >/dev/null 2>&1; then
		fail "$curve: openssl accepted a signature over other data"
	else
		pass "$curve: the signature does not verify for other data"
	fi
	nk sign --format raw --pin-source env:NK_TEST_PIN -i "$T/msg" -o "$T/$curve.raw" "$uri"
	if [ "$(wc -c < "$T/$curve.raw")" -eq $((2 * bytes)) ]; then
		pass "$curve: raw signature is r||s, $((2 * bytes)) bytes"
	else
		fail "$curve: raw signature has the wrong length"
	fi
	expect_exit 0 "$curve: raw signature verifies" nk verify --format raw -i "$T/msg" \
	    --signature "$T/$curve.raw" --pubkey "$T/$curve.pem"
	nk sign --format ssh --pin-source env:NK_TEST_PIN -i "$T/msg" -o "$T/$curve.sshsig" "$uri"
	expect_exit 0 "$curve: ssh signature verifies against the OpenSSH key" nk verify \
	    --format ssh -i "$T/msg" --signature "$T/$curve.sshsig" --pubkey "$T/$curve.ssh.pub"
	expect_exit 0 "$curve: verify by URI reads the key from the token" nk verify \
	    -i "$T/msg" --format ssh --signature "$T/$curve.sshsig" "$uri"
done

# Machine-readable output parses and says what the human output says.
nk list --json > "$T/list.json"
if python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); assert len(t)==1 and t[0]["label"]=="fmt" and t[0]["pin"]["state"]=="ok", t' "$T/list.json"; then
	pass "list --json parses and names the token"
else
	fail "list --json"
fi
nk status --json > "$T/status.json"
if python3 - "$T/status.json" "$T/p256.ssh.pub" <<'PY'
import json, sys, subprocess
s = json.load(open(sys.argv[1]))
assert s["token"]["label"] == "fmt"
keys = {k["id"]: k for k in s["keys"]}
assert sorted(keys) == ["01", "02", "03"], keys
assert [keys[i]["curve"] for i in ("01", "02", "03")] == ["p256", "p384", "p521"]
fp = subprocess.run(["ssh-keygen", "-lf", sys.argv[2]], capture_output=True, text=True).stdout.split()[1]
assert keys["01"]["fingerprint"] == fp, (keys["01"], fp)
PY
then
	pass "status --json lists the three keys with ssh-keygen's fingerprints"
else
	fail "status --json"
fi
expect_exit 0 "status (human)" nk status
expect_grep 'EC keys:      3' "$T/out" "status counts the keys"

# A key id chosen automatically is 8 random bytes (tool-keygen checks more).
expect_exit 0 "keygen without --id" nk keygen --label auto --pin-source env:NK_TEST_PIN
expect_grep 'id=\(%[0-9A-F][0-9A-F]\)\{8\};' "$T/out" "keygen picks an 8-byte id"

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
