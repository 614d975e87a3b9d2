#!/bin/sh
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
echo "demo: all steps succeeded"
