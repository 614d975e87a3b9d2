#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# demo.sh - nkhsm on a throwaway SoftHSM token: the steps that used to take
# a page of pkcs11-tool and `openssl req -engine pkcs11` commands.
#
#   tools/demo.sh [BUILDDIR]
#
# Everything lives in a temporary directory that is removed at the end; no
# global SoftHSM state is touched, so the demo can run any number of times.
set -eu

builddir=${1:-$(cd "$(dirname "$0")/.." && pwd)}
tool="$builddir/tools/nkhsm-tool"
softhsm=${SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
[ -x "$tool" ] || { echo "demo: build first: $tool is missing" >&2; exit 1; }
[ -f "$softhsm" ] || { echo "demo: SoftHSM ($softhsm) is not installed" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/nkhsm-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir "$work/tokens"
cat > "$work/softhsm2.conf" <<EOC
directories.tokendir = $work/tokens
objectstore.backend = file
log.level = ERROR
EOC
export SOFTHSM2_CONF="$work/softhsm2.conf"
# A demo PIN in the environment; nkhsm-tool never takes a PIN on argv.
NKHSM_DEMO_PIN=123456
export NKHSM_DEMO_PIN
tool() { echo "\$ nkhsm-tool $*"; "$tool" --module "$softhsm" "$@"; }

echo "== 1. a throwaway SoftHSM token (stands in for the Nitrokey HSM)"
softhsm2-util --init-token --free --label nkhsm-demo --so-pin 0123456789abcdef \
    --pin "$NKHSM_DEMO_PIN" >/dev/null
tool list
echo
echo "== 2. generate an EC P-256 key on the token"
tool keygen --curve p256 --label demo --id 01 --pin-source env:NKHSM_DEMO_PIN
echo
echo "== 3. export the public key (no PIN needed)"
tool pubkey --format ssh 'pkcs11:token=nkhsm-demo;object=demo'
tool pubkey --format pem 'pkcs11:token=nkhsm-demo;id=%01'
echo
echo "== 4. a self-signed certificate made by the token key, stored on the token"
tool selfsign --subject 'CN=nkhsm demo,O=nkhsm' --days 365 --store \
    --pin-source env:NKHSM_DEMO_PIN 'pkcs11:token=nkhsm-demo;object=demo' \
    -o "$work/demo.pem"
openssl x509 -in "$work/demo.pem" -noout -subject -issuer -dates -ext basicConstraints,keyUsage
openssl verify -CAfile "$work/demo.pem" "$work/demo.pem"
echo
echo "== 5. sign a message on the token and verify it with openssl"
echo "hello from nkhsm" > "$work/msg"
tool sign --pin-source env:NKHSM_DEMO_PIN -i "$work/msg" -o "$work/msg.sig" \
    'pkcs11:token=nkhsm-demo;object=demo'
"$tool" --module "$softhsm" pubkey --format pem -o "$work/demo.pub.pem" 'pkcs11:object=demo'
openssl dgst -sha256 -verify "$work/demo.pub.pem" -signature "$work/msg.sig" "$work/msg"
echo
echo "== 6. token status"
tool status
echo
echo "== 7. log in with the token through PAM (pam_nkhsm, as $(id -un))"
pamwrap=$(ldconfig -p 2>/dev/null | awk '/libpam_wrapper.so /{print $NF; exit}')
if command -v pamtester >/dev/null && [ -n "$pamwrap" ]; then
	# The user's authorized key: the token key's OpenSSH line.
	"$tool" --module "$softhsm" pubkey 'pkcs11:object=demo' > "$work/authorized_keys"
	chmod 600 "$work/authorized_keys"
	mkdir "$work/pam.d"
	: > "$work/empty.conf"; chmod 600 "$work/empty.conf"
	echo "auth required $builddir/pam_nkhsm/.libs/pam_nkhsm.so module=$softhsm" \
	    "helper=$builddir/pam_nkhsm/nkhsm-pam-helper authfile=$work/authorized_keys" \
	    "conf=$work/empty.conf" > "$work/pam.d/nkhsm-demo"
	echo "auth required pam_deny.so" > "$work/pam.d/other"
	echo "\$ pamtester nkhsm-demo $(id -un) authenticate   (PIN typed: $NKHSM_DEMO_PIN)"
	echo "$NKHSM_DEMO_PIN" | env LD_PRELOAD="$pamwrap" PAM_WRAPPER=1 \
	    PAM_WRAPPER_SERVICE_DIR="$work/pam.d" pamtester nkhsm-demo "$(id -un)" authenticate
	echo
	echo "\$ pamtester ... with a wrong PIN"
	echo 000000 | env LD_PRELOAD="$pamwrap" PAM_WRAPPER=1 \
	    PAM_WRAPPER_SERVICE_DIR="$work/pam.d" pamtester nkhsm-demo "$(id -un)" authenticate &&
	    { echo "demo: a wrong PIN was accepted" >&2; exit 1; }
else
	echo "(skipped: pamtester or pam_wrapper is not installed)"
fi
echo
echo "== 8. an SSH certificate authority on the token (nkhsm-sshca)"
sshca() { echo "\$ nkhsm-sshca $*"; "$builddir/sshca/nkhsm-sshca" --state "$work/ca" \
    --module "$softhsm" --pin-source env:NKHSM_DEMO_PIN "$@"; }
sshca init --subject 'CN=nkhsm demo CA' > "$work/ca.pub"
cat "$work/ca.pub"
ssh-keygen -q -t ed25519 -N '' -C alice@demo -f "$work/alice"
sshca sign --user -I alice@demo -n alice -V +8h "$work/alice.pub"
ssh-keygen -L -f "$work/alice-cert.pub" | sed -n '1,9p'
sshca list
echo
echo "demo: all steps succeeded"
