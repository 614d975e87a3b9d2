#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# sshca-sshd.sh - certificates from nkhsm-sshca used for real: a private sshd
# on 127.0.0.1 trusts the CA (TrustedUserCAKeys) and reads the CA's KRL
# (RevokedKeys). A user certificate logs in; a wrong principal, an expired
# certificate and a revoked one (after revoke + krl) do not. A host
# certificate from the CA is accepted by ssh through an @cert-authority line
# with StrictHostKeyChecking=yes; one from another CA is not.
. "${top_srcdir:-.}/tests/integration/common.sh"

[ -x "$SSHCA" ] || { echo "nkhsm-sshca not built"; exit 99; }
[ -x /usr/sbin/sshd ] || { echo "skip: /usr/sbin/sshd missing"; exit 77; }
command -v ssh >/dev/null 2>&1 || { echo "skip: ssh missing"; exit 77; }
command -v ssh-keygen >/dev/null 2>&1 || { echo "skip: ssh-keygen missing"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "skip: creating a test user and running sshd need root"; exit 77; }

init_token ca
sc init > "$T/ca.pub" 2>/dev/null || { echo "nkhsm-sshca init failed"; exit 99; }
sc -q krl -o "$T/revoked.krl" || { echo "cannot make the empty KRL"; exit 99; }

# The test user: a real passwd entry, password field '*' (not locked).
SSH_USER=nks$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
chmod 755 "$T"
mkdir "$T/home"
useradd -M -d "$T/home" -s /bin/sh -p '*' "$SSH_USER" || exit 99
CLEANUP="userdel $SSH_USER 2>/dev/null; $CLEANUP"
chown "$SSH_USER" "$T/home"

ssh-keygen -q -t ecdsa -b 256 -N '' -C host -f "$T/hostkey" || exit 99
ssh-keygen -q -t ecdsa -b 256 -N '' -C host2 -f "$T/hostkey2" || exit 99
. "$top_srcdir/tests/integration/sshd-common.sh"

# try KEY DESC WANT [SSH OPTIONS...]: ssh as the test user with KEY (and
# KEY-cert.pub); WANT is ok or refused.
try() {
	key=$1 desc=$2 want=$3
	shift 3
	lines=$(wc -l < "$T/sshd.log")
	ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityAgent=none \
	    -o ConnectTimeout=20 -o LogLevel=ERROR \
	    ${NO_STRICT:+-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null} \
	    -o GlobalKnownHostsFile=/dev/null "$@" \
	    -i "$key" -p "$PORT" "$SSH_USER@127.0.0.1" true > "$T/ssh.out" 2>&1
	rc=$?
	sleep 0.2	# let sshd's log catch up
	tail -n +$((lines + 1)) "$T/sshd.log" > "$T/sshd.new"
	case "$want:$rc" in
	ok:0 | refused:255) pass "$desc" ;;
	*)
		fail "$desc: ssh exit $rc, wanted $want"
		sed 's/^/  ssh: /' "$T/ssh.out" | head -3
		sed 's/^/  sshd: /' "$T/sshd.new" | tail -4
		;;
	esac
}
# sshd_said PATTERN DESC: sshd logged PATTERN for the last try.
sshd_said() {
	if grep -q -- "$1" "$T/sshd.new"; then
		pass "$2"
	else
		fail "$2: sshd did not log '$1'"
		sed 's/^/  sshd: /' "$T/sshd.new" | tail -4
	fi
}
serial_of() { ssh-keygen -L -f "$1" | awk '$1 == "Serial:" {print $2}'; }
userkey() { ssh-keygen -q -t "$1" -N '' -C "$2" -f "$T/$2" || exit 99; }

NO_STRICT=1
start_sshd "$T/hostkey"

# --- a good user certificate ---------------------------------------------------
userkey ecdsa good
expect_exit 0 "sign a user certificate for $SSH_USER" sc sign --user -I good-id \
    -n "$SSH_USER" -V -5m:+1h "$T/good.pub"
try "$T/good" "the user certificate logs in" ok
GOOD_SERIAL=$(serial_of "$T/good-cert.pub")
sshd_said "Accepted publickey for $SSH_USER from 127.0.0.1 .* ECDSA-CERT .* ID good-id (serial $GOOD_SERIAL) CA ECDSA $(ssh-keygen -lf "$T/ca.pub" | awk '{print $2}')" \
    "sshd accepted the certificate: key id, serial and CA as issued"
# The plain key alone (no certificate) is not enough.
mkdir "$T/plain"
cp "$T/good" "$T/plain/good"
try "$T/plain/good" "the same key without its certificate is refused" refused

userkey ed25519 ed
expect_exit 0 "sign an ed25519 user certificate" sc sign --user -I ed-id \
    -n "other,$SSH_USER" -V +1h -O clear -O permit-pty "$T/ed.pub"
try "$T/ed" "an ed25519 certificate (two principals, -O clear) logs in" ok
userkey rsa rsa
expect_exit 0 "sign an RSA user certificate" sc sign --user -I rsa-id \
    -n "$SSH_USER" -V +1h "$T/rsa.pub"
try "$T/rsa" "an RSA certificate logs in (rsa-sha2 signature on a CA-signed cert)" ok

# --- refused: wrong principal, expired, not yet valid, forced command -----------
userkey ecdsa wrong
expect_exit 0 "sign a certificate for another principal" sc sign --user -I wrong-id \
    -n "root,not-$SSH_USER" -V +1h "$T/wrong.pub"
try "$T/wrong" "a certificate for another principal is refused" refused
sshd_said "Certificate invalid: name is not a listed principal" \
    "sshd says why: not a listed principal"
userkey ecdsa expired
# nkhsm-sshca refuses a validity that has ended: make one end in a second.
expect_exit 2 "a validity that has ended is not issued (-V 20200101:20200102)" sc sign \
    --user -I expired-id -n "$SSH_USER" -V 20200101:20200102 "$T/expired.pub"
expect_exit 0 "sign a certificate that expires in a second (-V -1h:+1s)" sc sign --user \
    -I expired-id -n "$SSH_USER" -V -1h:+1s "$T/expired.pub"
sleep 2
try "$T/expired" "an expired certificate is refused" refused
sshd_said "Certificate invalid: expired" "sshd says why: expired"
userkey ecdsa future
expect_exit 0 "sign a not-yet-valid certificate (2030)" sc sign --user -I future-id \
    -n "$SSH_USER" -V 20300101:20300201 "$T/future.pub"
try "$T/future" "a not-yet-valid certificate is refused" refused
sshd_said "Certificate invalid: not yet valid" "sshd says why: not yet valid"
userkey ecdsa src
expect_exit 0 "sign with source-address=192.0.2.0/24" sc sign --user -I src-id \
    -n "$SSH_USER" -V +1h -O source-address=192.0.2.0/24 "$T/src.pub"
try "$T/src" "a certificate from a disallowed source address is refused" refused
sshd_said "not from a permitted source address" "sshd says why: source address"
userkey ecdsa fc
expect_exit 0 "sign with force-command=/bin/false" sc sign --user -I fc-id \
    -n "$SSH_USER" -V +1h -O force-command=/bin/false "$T/fc.pub"
ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityAgent=none \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
    -i "$T/fc" -p "$PORT" "$SSH_USER@127.0.0.1" true > "$T/ssh.out" 2>&1
rc=$?
[ $rc -eq 1 ] && pass "force-command=/bin/false runs instead of 'true' (exit 1)" ||
    fail "force-command: ssh exit $rc, wanted 1 (the forced /bin/false)"
# A certificate from another CA (software, not trusted by sshd).
ssh-keygen -q -t ecdsa -N '' -C other-ca -f "$T/otherca" || exit 99
userkey ecdsa foreign
ssh-keygen -q -s "$T/otherca" -I foreign -n "$SSH_USER" -V +1h "$T/foreign.pub" 2>/dev/null || exit 99
try "$T/foreign" "a certificate from an untrusted CA is refused" refused

# --- revocation through the KRL ----------------------------------------------------
userkey ecdsa rev
expect_exit 0 "sign a certificate to revoke" sc sign --user -I rev-id \
    -n "$SSH_USER" -V +1h "$T/rev.pub"
try "$T/rev" "the certificate logs in before its revocation" ok
REV_SERIAL=$(serial_of "$T/rev-cert.pub")
cp "$T/revoked.krl" "$T/revoked.krl.before"
expect_exit 0 "revoke $REV_SERIAL" sc revoke "$REV_SERIAL" --reason test
try "$T/rev" "revoked in the ledger but KRL not yet published: still logs in" ok
expect_exit 0 "krl -o the RevokedKeys file" sc krl -o "$T/revoked.krl"
cmp -s "$T/revoked.krl" "$T/revoked.krl.before" &&
    fail "krl -o did not change the KRL file" || pass "the KRL file changed"
try "$T/rev" "after revoke + krl, the revoked certificate is refused" refused
sshd_said "ECDSA-CERT $(ssh-keygen -lf "$T/rev.pub" | awk '{print $2}') revoked by file $T/revoked.krl" \
    "sshd says the key is revoked by the KRL file"
try "$T/good" "another certificate still logs in with the new KRL" ok
# Revocation by key id.
expect_exit 0 "revoke --key-id ed-id" sc revoke --key-id ed-id
expect_exit 0 "krl -o again" sc krl -o "$T/revoked.krl"
try "$T/ed" "a certificate revoked by key id is refused" refused
# The CA issues nothing more to that key id, nor to a revoked key.
userkey ed25519 ed2
expect_exit 12 "sign with the revoked key id refused -> 12" sc sign --user \
    -I ed-id -n "$SSH_USER" -V +1h "$T/ed2.pub"
[ -e "$T/ed2-cert.pub" ] && fail "revoked key id: a certificate was written" ||
    pass "revoked key id: no certificate written"
# Revocation by key: the plain key's SHA-256 is in the KRL.
expect_exit 0 "revoke --key rsa.pub" sc revoke --key "$T/rsa.pub"
expect_exit 0 "krl -o after revoke --key" sc krl -o "$T/revoked.krl"
try "$T/rsa" "a certificate for a revoked key is refused" refused
expect_exit 12 "sign the revoked key again refused -> 12" sc sign --user \
    -I rsa-id2 -n "$SSH_USER" -V +1h "$T/rsa.pub"
try "$T/good" "the good certificate still logs in after all revocations" ok

# --- host certificates -----------------------------------------------------------------
expect_exit 0 "sign the sshd host key --host -n 127.0.0.1,localhost" sc sign --host \
    -I sshd-host -n 127.0.0.1,localhost -V -5m:+1d "$T/hostkey.pub"
ssh-keygen -q -s "$T/otherca" -h -I other-host -n 127.0.0.1,localhost -V +1d \
    "$T/hostkey2.pub" 2>/dev/null || exit 99
printf '@cert-authority 127.0.0.1,localhost %s\n' "$(cat "$T/ca.pub")" > "$T/known_hosts"
stop_sshd
start_sshd "$T/hostkey" "$T/hostkey-cert.pub"
NO_STRICT=
try "$T/good" "ssh with StrictHostKeyChecking=yes accepts the CA's host certificate" ok \
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$T/known_hosts"
try "$T/good" "... also when the host key algorithm is forced to the certificate type" ok \
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$T/known_hosts" \
    -o HostKeyAlgorithms=ecdsa-sha2-nistp256-cert-v01@openssh.com
printf '@cert-authority other.example %s\n' "$(cat "$T/ca.pub")" > "$T/known_hosts.elsewhere"
try "$T/good" "the CA trusted only for other.example: host certificate refused" refused \
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$T/known_hosts.elsewhere"
stop_sshd
start_sshd "$T/hostkey2" "$T/hostkey2-cert.pub"
try "$T/good" "a host certificate from another CA is refused" refused \
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$T/known_hosts"
expect_grep 'Host key verification failed' "$T/ssh.out" "ssh says: Host key verification failed"
stop_sshd
# A wrong-principal host certificate from our CA.
expect_exit 0 "sign the host key for another name only" sc sign --host -I h2 \
    -n other.example -V +1d "$T/hostkey2.pub"
start_sshd "$T/hostkey2" "$T/hostkey2-cert.pub"
try "$T/good" "a host certificate for another name is refused" refused \
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$T/known_hosts"
stop_sshd

expect_exit 0 "verify-log" sc verify-log
finish
