#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# pam-keys.sh - pam_nkhsm applies the key checks nkhsm-sshca applies
# (lib/keycheck.c) to what it reads: an authorized keys file that lists a key
# no one should accept (an Ed25519 point of small order, RSA with public
# exponent 1) is refused as a whole, naming the line, even though the
# module would only have used its EC line. A ca= certificate for a key of
# small order does not log in either; libnkhsm already passes only
# certificates for EC keys to the module, whose own check of the key
# (nkhsm_pkey_check) is the second line, so this case passed before too.
. "${top_srcdir:-.}/tests/integration/common.sh"
pam_setup
command -v python3 >/dev/null 2>&1 || { echo "skip: python3 missing"; exit 77; }
command -v pkcs11-tool >/dev/null 2>&1 || { echo "skip: pkcs11-tool missing"; exit 77; }

init_token keys
nk keygen --label login --id 01 --pin-source env:NK_TEST_PIN > "$T/kg"
sed -n 's/^ *ssh: *//p' "$T/kg" > "$T/login.pub"
ssh-keygen -q -t rsa -b 2048 -N '' -f "$T/rsa" || exit 99
ssh-keygen -q -t ed25519 -N '' -C fine -f "$T/ed" || exit 99
mkdir "$T/bad"
python3 "$top_srcdir/tests/integration/badkeys.py" "$T/bad" "$T/rsa.pub" ||
    { echo "badkeys.py failed"; exit 99; }
pam_service ok "auth required $PAM_MOD $PAM_BASE"

# authfile LINES...: the user's authorized keys, the token's key first.
authfile() {
	cat "$T/login.pub" "$@" > "$T/af"
	install -o "$PAM_USER" -m 600 "$T/af" "$AUTHFILE"
}
authfile "$T/ed.pub" "$T/rsa.pub"
pam_run ok authenticate "$USER_PIN\n"
expect_pam "$R_SUCCESS" "token key with good Ed25519 and RSA lines beside it: PAM_SUCCESS"
for b in ed_order1_point0 ed_order8_point5 ed_order4_y_plus_p_sign1 rsa_e1; do
	authfile "$T/ed.pub" "$T/bad/$b.pub"
	pam_run ok authenticate "$USER_PIN\n"
	expect_pam "$R_AUTH_ERR" "authfile listing $b: PAM_AUTH_ERR"
	expect_grep "authorized_keys:3: invalid ssh-" "$T/pam.out" "$b: the file and line are logged"
	if grep -q "PIN for" "$T/pam.out"; then fail "$b: a PIN was asked"; else pass "$b: no PIN asked"; fi
done

# ca=: a certificate from the trusted CA, CN = user, for a key of small order.
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/ca.key" -out "$T/ca.crt" -subj /CN=keysca -days 30 \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null || exit 99
chmod 644 "$T/ca.crt"
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' > "$T/leaf.ext"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/d.key" \
    -subj "/CN=$PAM_USER" -out "$T/d.csr" 2>/dev/null &&
    openssl x509 -req -in "$T/d.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" \
    -force_pubkey "$T/bad/ed_order1_point0.pem" -days 5 -set_serial 7 \
    -extfile "$T/leaf.ext" -outform DER -out "$T/leaf.der" 2>/dev/null || exit 99
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label keys --login --pin "$USER_PIN" \
    --write-object "$T/leaf.der" --type cert --id 01 --label cert >/dev/null 2>&1 || exit 99
rm -f "$AUTHFILE"
pam_service ca "auth required $PAM_MOD $PAM_BASE ca=$T/ca.crt"
pam_run ca authenticate "$USER_PIN\n"
expect_pam "$R_AUTH_ERR" "ca= certificate for a small-order key: PAM_AUTH_ERR"
if grep -q "PIN for" "$T/pam.out"; then fail "ca= small-order key: a PIN was asked"; else pass "ca= small-order key: no PIN asked"; fi

finish
