# SPDX-License-Identifier: BSD-2-Clause
# tool-checks.sh - sourced after common.sh: nkhsm-tool's outputs checked by
# real peers, on whatever token nk works on (SoftHSM in tool-formats.sh, the
# card in card-tool.sh). Every check reads the token through $TEST_MODULE
# and logs in with $TEST_PIN.

# curve_params CURVE: its hash ($sha) and field size in bytes ($bytes).
curve_params() {
	case $1 in
	p256) sha=sha256 bytes=32 ;;
	p384) sha=sha384 bytes=48 ;;
	p521) sha=sha512 bytes=66 ;;
	esac
}

# check_keygen CURVE ID LABEL URIPATTERN: keygen prints the key's URI, which
# matches URIPATTERN (a grep pattern); the URI is left in $keygen_uri.
check_keygen() {
	expect_exit 0 "$1: keygen" nk keygen --curve "$1" --label "$3" --id "$2" \
	    --pin-source "$TEST_PIN"
	expect_grep "$4" "$T/out" "$1: keygen prints the key's URI"
	keygen_uri=$(sed -n 's/^ *uri: *//p' "$T/out")
}

# token_ssh_keys: the token's public keys as ssh-keygen -D lists them
# ("type base64" lines) in $T/sshkeygen-D; made once, read by check_pubkey.
token_ssh_keys() {
	ssh-keygen -D "$TEST_MODULE" 2>/dev/null | awk '{print $1, $2}' > "$T/sshkeygen-D"
}

# check_pubkey CURVE URI: the OpenSSH line is one ssh-keygen -D lists and
# the PEM key is the same key. Leaves $T/CURVE.ssh.pub and $T/CURVE.pem.
check_pubkey() {
	nk pubkey --format ssh "$2" > "$T/$1.ssh.pub"
	if [ -s "$T/$1.ssh.pub" ] &&
	    grep -qxF "$(awk '{print $1, $2}' "$T/$1.ssh.pub")" "$T/sshkeygen-D"; then
		pass "$1: pubkey --format ssh equals ssh-keygen -D"
	else
		fail "$1: pubkey --format ssh not in ssh-keygen -D output"
	fi
	nk pubkey --format pem -o "$T/$1.pem" "$2"
	ssh-keygen -e -m PKCS8 -f "$T/$1.ssh.pub" > "$T/$1.fromssh.pem" 2>/dev/null
	if openssl pkey -pubin -in "$T/$1.pem" -noout 2>/dev/null &&
	    [ "$(openssl pkey -pubin -in "$T/$1.pem" -outform DER | od -An -tx1)" = \
	      "$(openssl pkey -pubin -in "$T/$1.fromssh.pem" -outform DER | od -An -tx1)" ]; then
		pass "$1: PEM parses and equals the OpenSSH key"
	else
		fail "$1: PEM differs from the OpenSSH key"
	fi
}

# check_fingerprint CURVE URI: as ssh-keygen -l prints it (after check_pubkey).
check_fingerprint() {
	want=$(ssh-keygen -l -E sha256 -f "$T/$1.ssh.pub" | awk '{print $2}')
	got=$(nk pubkey --format fingerprint "$2")
	if [ -n "$want" ] && [ "$want" = "$got" ]; then
		pass "$1: fingerprint equals ssh-keygen -l"
	else
		fail "$1: fingerprint '$got' != ssh-keygen -l '$want'"
	fi
}

# check_selfsign CURVE URI ID [--ca]: the self-signed certificate verifies,
# certifies the token key with the curve's hash and the profile asked for,
# and is stored on the token byte for byte (read back by pkcs11-tool).
# Leaves $T/CURVE.crt.
check_selfsign() {
	curve_params "$1"
	expect_exit 0 "$1: selfsign ${4:-}" nk selfsign --subject "CN=test $1,O=nkhsm" \
	    --days 30 ${4:-} --store --pin-source "$TEST_PIN" "$2" -o "$T/$1.crt"
	if openssl verify -CAfile "$T/$1.crt" "$T/$1.crt" >/dev/null 2>&1; then
		pass "$1: openssl verify accepts the self-signed certificate"
	else
		fail "$1: openssl verify rejects the certificate"
	fi
	openssl x509 -in "$T/$1.crt" -noout -pubkey > "$T/$1.crtpub.pem"
	if cmp -s "$T/$1.crtpub.pem" "$T/$1.pem"; then
		pass "$1: certificate key equals the token key"
	else
		fail "$1: certificate key differs from the token key"
	fi
	openssl x509 -in "$T/$1.crt" -noout -text > "$T/$1.crt.txt"
	expect_grep "Signature Algorithm: ecdsa-with-SHA${sha#sha}" "$T/$1.crt.txt" \
	    "$1: certificate signed with the curve's hash"
	if [ -n "${4:-}" ]; then
		expect_grep "CA:TRUE" "$T/$1.crt.txt" "$1: --ca sets CA:TRUE"
		expect_grep "Certificate Sign" "$T/$1.crt.txt" "$1: --ca sets keyCertSign"
	else
		expect_grep "CA:FALSE" "$T/$1.crt.txt" "$1: end entity has CA:FALSE"
		expect_grep "TLS Web Client Authentication" "$T/$1.crt.txt" \
		    "$1: end entity is clientAuth"
	fi
	rm -f "$T/$1.token.der"
	pkcs11-tool --module "$TEST_MODULE" --read-object --type cert --id "$3" \
	    -o "$T/$1.token.der" >/dev/null 2>&1
	openssl x509 -in "$T/$1.crt" -outform DER -out "$T/$1.crt.der"
	if cmp -s "$T/$1.token.der" "$T/$1.crt.der"; then
		pass "$1: certificate stored on the token (read back by pkcs11-tool)"
	else
		fail "$1: certificate on the token differs or is missing"
	fi
}

# check_store_again CURVE URI: a second certificate for the key is refused.
check_store_again() {
	expect_exit 9 "$1: storing a second certificate for the key is refused" \
	    nk selfsign --subject "CN=again" --days 1 --store --pin-source "$TEST_PIN" \
	    "$2" -o "$T/$1.again.crt"
}

# check_sign CURVE URI: a DER signature checked by openssl (and refused for
# other data) and by the key read from the token. Needs check_pubkey's
# files. Leaves the message in $T/msg.
check_sign() {
	curve_params "$1"
	head -c 5000 /dev/urandom > "$T/msg"
	expect_exit 0 "$1: sign (der)" nk sign --pin-source "$TEST_PIN" -i "$T/msg" \
	    -o "$T/$1.sig" "$2"
	if openssl dgst -$sha -verify "$T/$1.pem" -signature "$T/$1.sig" "$T/msg" \
	    >/dev/null 2>&1; then
		pass "$1: openssl dgst -$sha -verify accepts the signature"
	else
		fail "$1: openssl rejects the signature"
	fi
	cp "$T/msg" "$T/msg.other"
	printf 'x' >> "$T/msg.other"
	if openssl dgst -$sha -verify "$T/$1.pem" -signature "$T/$1.sig" "$T/msg.other" \
	    >/dev/null 2>&1; then
		fail "$1: openssl accepted a signature over other data"
	else
		pass "$1: the signature does not verify for other data"
	fi
	expect_exit 0 "$1: verify by URI reads the key from the token" nk verify \
	    -i "$T/msg" --signature "$T/$1.sig" "$2"
}

# check_sign_formats CURVE URI: raw signatures by length and our verifier,
# SSH ones against the OpenSSH key and against the key on the token.
check_sign_formats() {
	curve_params "$1"
	nk sign --format raw --pin-source "$TEST_PIN" -i "$T/msg" -o "$T/$1.raw" "$2"
	if [ "$(wc -c < "$T/$1.raw")" -eq $((2 * bytes)) ]; then
		pass "$1: raw signature is r||s, $((2 * bytes)) bytes"
	else
		fail "$1: raw signature has the wrong length"
	fi
	expect_exit 0 "$1: raw signature verifies" nk verify --format raw -i "$T/msg" \
	    --signature "$T/$1.raw" --pubkey "$T/$1.pem"
	nk sign --format ssh --pin-source "$TEST_PIN" -i "$T/msg" -o "$T/$1.sshsig" "$2"
	expect_exit 0 "$1: ssh signature verifies against the OpenSSH key" nk verify \
	    --format ssh -i "$T/msg" --signature "$T/$1.sshsig" --pubkey "$T/$1.ssh.pub"
	expect_exit 0 "$1: ssh signature verifies by URI (the key on the token)" \
	    nk verify -i "$T/msg" --format ssh --signature "$T/$1.sshsig" "$2"
}

# check_list_status LABEL: list --json and status --json parse and name the
# token; status lists keys 01, 02, 03 as P-256, P-384, P-521 with
# ssh-keygen's fingerprints (check_pubkey's files), and nothing else.
check_list_status() {
	nk list --json > "$T/list.json"
	if python3 - "$T/list.json" "$1" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
assert len(t) == 1 and t[0]["label"] == sys.argv[2] and t[0]["pin"]["state"] == "ok", t
PY
	then
		pass "list --json parses and names the token"
	else
		fail "list --json"
	fi
	nk status --json > "$T/status.json"
	if python3 - "$T/status.json" "$1" "$T/p256.ssh.pub" "$T/p384.ssh.pub" \
	    "$T/p521.ssh.pub" <<'PY'
import json, sys, subprocess
s = json.load(open(sys.argv[1]))
assert s["token"]["label"] == sys.argv[2]
keys = {k["id"]: k for k in s["keys"]}
assert sorted(keys) == ["01", "02", "03"], keys
assert [keys[i]["curve"] for i in ("01", "02", "03")] == ["p256", "p384", "p521"]
for i, f in zip(("01", "02", "03"), sys.argv[3:]):
    fp = subprocess.run(["ssh-keygen", "-lf", f], capture_output=True, text=True).stdout.split()[1]
    assert keys[i]["fingerprint"] == fp, (keys[i], fp)
PY
	then
		pass "status --json lists the three keys with ssh-keygen's fingerprints"
	else
		fail "status --json"
	fi
	expect_exit 0 "status (human)" nk status
	expect_grep 'EC keys:      3' "$T/out" "status counts the keys"
}

# check_keygen_autoid: a key generated without --id gets 8 random bytes.
check_keygen_autoid() {
	expect_exit 0 "keygen without --id" nk keygen --label auto --pin-source "$TEST_PIN"
	expect_grep 'id=\(%[0-9A-F][0-9A-F]\)\{8\};' "$T/out" "keygen picks an 8-byte id"
}
