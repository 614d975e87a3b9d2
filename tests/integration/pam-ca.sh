#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# pam-ca.sh - ca= mode: the user logs in with a certificate on the token
# that a trusted CA issued to them (subject CN or UID = user name). The CA
# and the certificates are made by openssl; the certificate is stored on the
# token by pkcs11-tool.
. "${top_srcdir:-.}/tests/integration/common.sh"
pam_setup
command -v pkcs11-tool >/dev/null || { echo "skip: pkcs11-tool missing"; exit 77; }

# store_cert TOKEN ID CERT.pem: put a certificate on the token next to key ID.
store_cert() {
	openssl x509 -in "$3" -outform DER -out "$T/store.der"
	pkcs11-tool --module "$SOFTHSM_MODULE" --token-label "$1" --login --pin "$USER_PIN" \
	    --write-object "$T/store.der" --type cert --id "$2" --label cert >/dev/null 2>&1
}
# make_ca NAME: a P-256 CA key and self-signed certificate.
make_ca() {
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/$1.key" -out "$T/$1.crt" -subj "/CN=$1" -days 30 \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
# issue CA SUBJECT PUBKEY.pem OUT.pem [openssl ca dates]: a client certificate
# for PUBKEY (the token's key) signed by CA.
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' > "$T/leaf.ext"
issue() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/dummy.key" \
	    -subj "$2" -out "$T/dummy.csr" 2>/dev/null
	openssl x509 -req -in "$T/dummy.csr" -CA "$T/$1.crt" -CAkey "$T/$1.key" \
	    -force_pubkey "$3" -days 5 -set_serial "$(od -An -N6 -tu8 /dev/urandom | tr -d ' ')" \
	    -extfile "$T/leaf.ext" -out "$4" 2>/dev/null
}
# token_with_cert LABEL SUBJECT CA: a token whose key 01 has a certificate.
token_with_cert() {
	init_token "$1"
	nk keygen --token "pkcs11:token=$1" --label login --id 01 --pin-source env:NK_TEST_PIN >/dev/null
	nk pubkey --format pem -o "$T/$1.pub.pem" "pkcs11:token=$1;id=%01"
	issue "$3" "$2" "$T/$1.pub.pem" "$T/$1.crt"
	store_cert "$1" 01 "$T/$1.crt"
}

make_ca goodca
make_ca evilca
chmod 644 "$T/goodca.crt"
token_with_cert cn "/CN=$PAM_USER/O=nkhsm" goodca

pam_service ca "auth required $PAM_MOD $PAM_BASE ca=$T/goodca.crt token=pkcs11:token=cn"
pam_run ca authenticate "$USER_PIN\n"
expect_pam "$R_SUCCESS" "certificate with CN = user from the trusted CA: PAM_SUCCESS"
pam_run ca authenticate "000000\n"
expect_pam "$R_AUTH_ERR" "right certificate, wrong PIN: PAM_AUTH_ERR"

token_with_cert uid "/CN=Somebody Else/UID=$PAM_USER" goodca
pam_service uid "auth required $PAM_MOD $PAM_BASE ca=$T/goodca.crt token=pkcs11:token=uid ca_map=uid"
pam_run uid authenticate "$USER_PIN\n"
expect_pam "$R_SUCCESS" "UID = user with ca_map=uid: PAM_SUCCESS"
pam_service uidcn "auth required $PAM_MOD $PAM_BASE ca=$T/goodca.crt token=pkcs11:token=uid ca_map=cn"
pam_run uidcn authenticate "$USER_PIN\n"
expect_pam "$R_AUTH_ERR" "UID = user but ca_map=cn: PAM_AUTH_ERR"
if grep -q "PIN for" "$T/pam.out"; then fail "unmapped certificate: PIN asked"; else pass "unmapped certificate: no PIN asked"; fi

token_with_cert wrongcn "/CN=not-$PAM_USER" goodca
pam_service wrongcn "auth required $PAM_MOD $PAM_BASE ca=$T/goodca.crt token=pkcs11:token=wrongcn"
pam_run wrongcn authenticate "$USER_PIN\n"
expect_pam "$R_AUTH_ERR" "certificate for another user: PAM_AUTH_ERR"

token_with_cert evil "/CN=$PAM_USER" evilca
pam_service evil "auth required $PAM_MOD $PAM_BASE ca=$T/goodca.crt token=pkcs11:token=evil"
pam_run evil authenticate "$USER_PIN\n"
expect_pam "$R_AUTH_ERR" "certificate from an untrusted CA: PAM_AUTH_ERR"

# A certificate whose key is not the token key: the signature cannot verify.
init_token swap
nk keygen --token pkcs11:token=swap --label login --id 01 --pin-source env:NK_TEST_PIN >/dev/null
store_cert swap 01 "$T/cn.crt"
pam_service swap "auth required $PAM_MOD $PAM_BASE ca=$T/goodca.crt token=pkcs11:token=swap"
pam_run swap authenticate "$USER_PIN\n"
expect_pam "$R_AUTH_ERR" "certificate copied onto another token: PAM_AUTH_ERR"
expect_grep "signature does not verify" "$T/pam.out" "copied certificate: the signature check refused it"

# The CA file itself must be safe.
cp "$T/goodca.crt" "$T/gwca.crt"; chmod 664 "$T/gwca.crt"
pam_service gwca "auth required $PAM_MOD $PAM_BASE ca=$T/gwca.crt token=pkcs11:token=cn"
pam_run gwca authenticate "$USER_PIN\n"
expect_pam "$R_SERVICE_ERR" "group-writable CA file: PAM_SERVICE_ERR"
expect_grep "refusing CA file" "$T/pam.out" "group-writable CA file: logged"

pam_service noca "auth required $PAM_MOD $PAM_BASE ca=$T/missing.crt token=pkcs11:token=cn"
pam_run noca authenticate "$USER_PIN\n"
expect_pam "$R_SERVICE_ERR" "missing CA file: PAM_SERVICE_ERR"

# authfile and ca together: a key not in the authfile may still log in by certificate.
ssh-keygen -q -t ecdsa -N '' -f "$T/foreign" >/dev/null
install -o "$PAM_USER" -m 600 "$T/foreign.pub" "$AUTHFILE"
pam_service both "auth required $PAM_MOD $PAM_BASE authfile=%h/.config/nkhsm/authorized_keys ca=$T/goodca.crt token=pkcs11:token=cn"
pam_run both authenticate "$USER_PIN\n"
expect_pam "$R_SUCCESS" "authfile without the key, ca with a certificate: PAM_SUCCESS"
finish
