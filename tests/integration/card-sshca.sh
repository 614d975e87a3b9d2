#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# card-sshca.sh - nkhsm-sshca with its key on an emulated SmartCard-HSM
# (pcscd, OpenSC), with the SoftHSM tests' checks: init (the CA line is the
# card's key), a batch of certificates for every key type in one sign with
# one PIN verification (ssh-keygen -L reads every certificate, the ledger
# has every serial), X.509 issuance, revocation and a CRL that openssl
# verify -crl_check honours, and the ledger's log.
. "${top_srcdir:-.}/tests/integration/common.sh"
. "$top_srcdir/tests/integration/card-common.sh"
. "$top_srcdir/tests/integration/sshca-checks.sh"

[ -x "$SSHCA" ] || { echo "nkhsm-sshca not built"; exit 99; }
export TZ=UTC
card_start

# --- init: the CA key is made on the card -----------------------------------
expect_exit 0 "init on the card" sc init --subject "CN=Card SSH CA,O=nkhsm tests"
cp "$T/out" "$T/ca.pub"
check_init_line "$T/ca.pub"
expect_grep '^ecdsa-sha2-nistp256 ' "$T/ca.pub" "the CA key is ECDSA P-256"
CAFP=$(fp "$T/ca.pub")
CA="$T/state/ca.pem"
expect_exit 0 "ca.pem verifies as its own trust anchor" openssl verify -CAfile "$CA" "$CA"
openssl x509 -in "$CA" -noout -pubkey > "$T/ca.spki.pem"
expect_eq "$(ssh-keygen -i -m PKCS8 -f "$T/ca.spki.pem" 2>/dev/null | awk '{print $2}')" \
    "$(awk '{print $2}' "$T/ca.pub")" "ca.pem certifies the card's CA key"
expect_exit 9 "init again refused" sc init

# --- a batch: every subject key type, one sign ------------------------------
i=0
for t in ecdsa:256 ecdsa:384 ecdsa:521 ed25519 ed25519 rsa:2048 ed25519 ed25519; do
	i=$((i + 1))
	case $t in *:*) bits="-b ${t#*:}" ;; *) bits= ;; esac
	ssh-keygen -q -t "${t%%:*}" $bits -N '' -C "b$i" -f "$T/b$i" || exit 99
done
n0=$(ledger_count)
apdu_mark
expect_exit 0 "a batch of 8 signed on the card" sc sign --user -I cardbatch -n alice,bob \
    -V +1h $(seq -f "$T/b%g.pub" 1 8)
# One PIN verification (VERIFY with the PIN), one card signature each.
expect_eq "$(apdu_log_since | grep -c '^00 20 00 81 [0-9A-F][0-9A-F] ')" 1 \
    "the batch verifies the PIN once"
expect_eq "$(apdu_log_since | grep -c '^80 68 ')" 8 "the batch makes 8 card signatures"
check_batch "card batch" cardbatch ecdsa-sha2-nistp256 "$n0" $(seq -f "$T/b%g.pub" 1 8)
certsum "$T/b6-cert.pub"
expect_v principals "alice;bob" "card batch: the principals"
expect_v type "ssh-rsa-cert-v01@openssh.com user certificate" "card batch: an RSA subject's type"
check_issued_recorded "card batch"

# --- X.509, revocation, the CRL ----------------------------------------------
for h in 1 2; do
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/h$h.key" -subj "/CN=host$h.example" -out "$T/h$h.csr" 2>/dev/null || exit 99
	expect_exit 0 "x509 host$h on the card" sc x509 --csr "$T/h$h.csr" --profile host \
	    --san "DNS:host$h.example" -o "$T/h$h.pem"
done
expect_exit 0 "host1's certificate verifies with ca.pem" openssl verify -CAfile "$CA" "$T/h1.pem"
RS=$(openssl x509 -in "$T/h1.pem" -noout -serial | sed 's/^serial=//')
expect_exit 0 "revoke 0x$RS" sc revoke "0x$RS"
expect_exit 0 "crl on the card" sc crl -o "$T/crl.pem"
CA_SKI=$(openssl x509 -in "$CA" -noout -ext subjectKeyIdentifier | sed -n '2s/^ *//p')
check_crl "$T/crl.pem" "$CA" "$CA_SKI" "$T/h1.pem" "$T/h2.pem"

expect_exit 0 "verify-log" sc verify-log
finish
