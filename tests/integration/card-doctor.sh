#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# card-doctor.sh - nkhsm-tool doctor, list and status on the emulated
# SmartCard-HSM through pcscd and OpenSC: a healthy card (each reader, the
# card's serial, the exact PIN tries left, the user's key on the card); a
# wrong PIN (2 tries left: a warning), a locked PIN (a failure, and list
# and status say "locked (0 tries left)"), and after the SO-PIN unblock 3
# again; no reader (a pcscd of its own without one); a card that is not a
# SmartCard-HSM; one with a SmartCard-HSM's ATR that does not answer as an
# initialized one; a card that another program holds for itself (a warning,
# never the advice to initialize it); a card that stops answering (the
# kit's freeze: the token checks end at --timeout, with what they found
# before).
. "${top_srcdir:-.}/tests/integration/common.sh"
. "$top_srcdir/tests/integration/card-common.sh"
. "$top_srcdir/tests/integration/doctor-common.sh"
if [ "$(id -u)" -ne 0 ]; then
	card_unavailable "it needs root (a test user, root's files)"
fi
pam_setup
card_start
NKAPDU="$top_builddir/tests/pcscfault/nkapdu"
VCARD="$top_srcdir/tests/hotplug/vcard.py"
SELECT=00A404000BE82B0601040181C31F020100
WRONG=0020008106303030303030	# VERIFY 000000
LABEL='Pico-HSM (UserPIN)'

nkc keygen --curve p256 --label login --id 01 --pin-source env:NK_CARD_PIN > "$T/kg" ||
    card_unavailable "keygen on the card failed"
sed -n 's/^ *ssh: *//p' "$T/kg" > "$T/login.pub"
install -o "$PAM_USER" -m 600 "$T/login.pub" "$AUTHFILE"
doctor_root "$OPENSC_MODULE"

doc $D --user "$PAM_USER"
dexit 0 "a healthy card: exit 0"
dcheck pcscd ok "pcscd answers" "pcscd reachable"
dcheck readers ok "2 readers" "the kit's two readers"
dcheck reader ok "Virtual PCD 00 00: SmartCard-HSM '$LABEL', serial ESPICOHSMTR" \
    "the card in its reader, with its serial"
dcheck reader ok "Virtual PCD 00 01: no card" "the empty reader"
dcheck card ok "1 SmartCard-HSM in the readers" "a SmartCard-HSM is there"
dcheck token ok "the module sees 1 token: '$LABEL' (serial ESPICOHSMTR)" "OpenSC sees it"
dcheck pin ok "token '$LABEL' (serial ESPICOHSMTR): 3 PIN tries left" "the exact tries left"
dcheck keys ok "is on token '$LABEL' (id 01)" "the user's key is on the card"

# A wrong PIN: the card's own count, in doctor, list and status.
"$NKAPDU" $SELECT $WRONG > "$T/apdu" 2>&1
doc $D
dexit 0 "one wrong PIN: exit 0"
dcheck pin warning "2 PIN tries left (a wrong PIN was typed)" "one wrong PIN: a warning with the count"
nkc list > "$T/list"
expect_grep "user PIN: .*(2 tries left)" "$T/list" "list shows the exact tries left"
nkc status --json > "$T/status.json"
expect_grep '"tries_left":2' "$T/status.json" "status --json has the exact tries left"

"$NKAPDU" $SELECT $WRONG $WRONG > "$T/apdu" 2>&1
doc $D
dexit 1 "a locked PIN: exit 1"
dcheck pin failure "token '$LABEL' (serial ESPICOHSMTR): the user PIN is locked" "a locked PIN: a failure"
expect_grep "unblock it with the SO PIN" "$T/doc.json" "a locked PIN: how to unblock it"
nkc list > "$T/list"
expect_grep "user PIN: *locked (0 tries left)" "$T/list" "list: locked, 0 tries left"
nkc status --json > "$T/status.json"
expect_grep '"locked":true,.*"tries_left":0' "$T/status.json" "status --json: locked, 0 tries left"
if pkcs11-tool --module "$OPENSC_MODULE" --login --login-type so --so-pin "$CARD_SO_PIN" \
    --init-pin --new-pin "$CARD_PIN" > "$T/unblock" 2>&1; then
	doc $D
	dcheck pin ok "3 PIN tries left" "after the SO-PIN unblock: 3 tries left"
else
	fail "SO-PIN unblock"
	sed 's/^/  | /' "$T/unblock" | tail -3
fi

# No reader: a pcscd of its own, with no reader configured and none on USB.
mkdir -p "$T/pc0/run" "$T/pc0/conf" /run/pcscd
unshare --mount --propagation private sh -c \
    'mount --bind "$1" /run/pcscd && exec /usr/sbin/pcscd -f -c "$2"' \
    sh "$T/pc0/run" "$T/pc0/conf" > "$T/pc0/log" 2>&1 &
PC0=$!
CLEANUP="kill $PC0 2>/dev/null; wait $PC0 2>/dev/null; $CLEANUP"
i=0
while [ ! -S "$T/pc0/run/pcscd.comm" ] && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.05; done
PCSCLITE_CSOCK_NAME="$T/pc0/run/pcscd.comm" doc $D
dexit 1 "no reader: exit 1"
dcheck pcscd ok "pcscd answers" "that pcscd answers"
dcheck readers failure "no smart card reader" "no reader: a failure"
expect_grep "plug in the Nitrokey HSM" "$T/doc.json" "no reader: what to do"
kill $PC0 2>/dev/null

# vcard_in ATR: vcard.py's card with that ATR in vpcd's second reader;
# vcard_out takes it out.
vcard_in() {
	nsenter -t "$(cat "$CARD_DIR/ns.pid")" -n -- python3 "$VCARD" 35964 \
	    "$1" > "$T/vcard.log" 2>&1 &
	VC=$!
	CLEANUP="kill $VC 2>/dev/null; $CLEANUP"
	card_wait_reader "Virtual PCD 00 01" yes || fail "vcard's card did not come"
}

vcard_out() {
	kill $VC 2>/dev/null
	wait $VC 2>/dev/null
	card_wait_reader "Virtual PCD 00 01" no || fail "vcard's card did not go"
}

# A card that is not a SmartCard-HSM, alone in the readers.
card_remove
vcard_in 3B8F8001804F0CA000000306030001000000006A
doc $D
dexit 1 "only an unknown card: exit 1"
dcheck reader warning "Virtual PCD 00 01: a card that is not a SmartCard-HSM (ATR 3B8F8001804F0CA000000306030001000000006A)" \
    "an unknown card, by its ATR"
dcheck card failure "no SmartCard-HSM in any reader (only other cards)" "no SmartCard-HSM: a failure"
vcard_out

# A card with a SmartCard-HSM's ATR that does not answer as one (vcard.py
# refuses every command, as the applet of a card never initialized would
# not give a PIN status).
vcard_in 3BFE1800008131FE458031815448534D31738021408107FA
doc $D
dexit 1 "a SmartCard-HSM that does not answer: exit 1"
dcheck reader failure "Virtual PCD 00 01: a SmartCard-HSM that does not answer as an initialized one" \
    "a SmartCard-HSM by its ATR that does not answer as one"
expect_grep "sc-hsm-tool --initialize" "$T/doc.json" "... with how to initialize it"
dcheck card failure "no SmartCard-HSM in any reader" "... and none usable"
vcard_out

# A card that another program holds for itself (as GnuPG's scdaemon
# does): a warning that says so and how to free it, not a card to erase.
card_insert
card_wait_reader "Virtual PCD 00 00" yes || fail "the kit's card did not come back"
mkfifo "$T/hold.in"
python3 "$top_srcdir/tests/integration/pcsc_hold.py" "Virtual PCD 00 00" \
    < "$T/hold.in" > "$T/hold.out" 2>&1 &
HOLD=$!
CLEANUP="kill $HOLD 2>/dev/null; $CLEANUP"
exec 8> "$T/hold.in"
_i=0
until grep -q '^held$' "$T/hold.out" || [ $_i -ge 50 ]; do
	sleep 0.2
	_i=$((_i + 1))
done
grep -q '^held$' "$T/hold.out" || fail "pcsc_hold.py did not get the card: $(cat "$T/hold.out")"
doc $D --timeout 20
exec 8>&-
wait $HOLD 2>/dev/null
dcheck reader warning "Virtual PCD 00 00: another program holds the card for itself" \
    "a card held by another program: a warning"
expect_grep "gpgconf --kill scdaemon" "$T/doc.json" "a held card: how to free it"
if grep -q "initialized one" "$T/doc.json"; then
	fail "a held card is called uninitialized (and the fix erases it)"
else
	pass "a held card is not called uninitialized"
fi
dcheck card failure "no SmartCard-HSM in any reader that another program does not hold" \
    "a held card: no SmartCard-HSM to use, and why"

# A card that stops answering: the token checks end at --timeout.
CLEANUP="\"$SCHSM_EMU\" thaw \"$CARD_DIR\" >/dev/null 2>&1; $CLEANUP"
card_freeze
doc $D --timeout 3
card_thaw
dexit 1 "a frozen card: exit 1"
dcheck token failure "got no answer within 3s (--timeout)" "a frozen card: the checks end at --timeout"
dcheck token failure "(after: readers)" "... and say where they stopped"
dcheck readers ok "2 readers" "a frozen card: what was found before it is reported"
finish
