#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# hotplug-card.sh - nkhsm-hotplug over PC/SC, on the emulated SmartCard-HSM
# (card-common.sh) with python3-dbusmock's logind and a umockdev testbed.
# Proves:
#   - pulling the card (the kit's remove) locks exactly the sessions whose
#     records name the serial the card gave when it answered, whatever
#     serial_match says (here absent, which alone would lock them all);
#   - putting it back runs the insertion actions once, after it answered,
#     with its serial and reader; cards there at start are state, no event;
#   - a card that stops answering (the kit's freeze) delays nothing else:
#     the udev path locks, the monitor answers SIGUSR1, and the card's
#     probe ends at card_timeout with no insertion actions; likewise a
#     stuck card in a second reader (nkhsm-hotplug-fake hangs its
#     commands, as a driver that holds up nothing else would) while the
#     first reader's card is pulled and put back;
#   - a Nitrokey HSM, whose reader is named after its USB serial and goes
#     away with it (nkhsm-hotplug-fake renames and hides the kit's reader):
#     its udev and PC/SC events lock, run the removal actions and the
#     insertion actions once, whichever comes first;
#   - the systemd path (add/remove SYSPATH) waits for the card to answer,
#     keeps its serial for the removal, acts on the USB event without
#     pcscd, and runs nothing when no card answers.
# Under CI=true it fails when the card kit, root or the testbed is missing.
if [ "$(id -u)" -ne 0 ] && [ "${CI:-}" = true ]; then
	echo "FAIL - the card kit needs root"
	exit 99
fi
. "${top_srcdir:-.}/tests/integration/hotplug-common.sh"
. "$top_srcdir/tests/integration/card-common.sh"
if ! command -v umockdev-wrapper >/dev/null 2>&1 || ! find_python; then
	card_unavailable "umockdev-wrapper or python3 with gi/UMockdev/dbusmock is missing"
fi
FAKE="$top_builddir/tests/pcscfault/nkhsm-hotplug-fake"
VCARD="$top_srcdir/tests/hotplug/vcard.py"
[ -x "$FAKE" ] || { echo "nkhsm-hotplug-fake not built"; exit 99; }

card_start		# exports PCSCLITE_CSOCK_NAME: this pcscd from now on
start_logind
install_recorder
CARD=ESPICOHSMTR	# the kit's card serial (schsm-emu README)
SCHSM_ATR=3BFE1800008131FE458031815448534D31738021408107FA
NK_NAME="Nitrokey Nitrokey HSM (DENK0100001) 00 00"
NK_LABEL=Nitrokey_Nitrokey_HSM__DENK0100001__00_00

add_session 10 1000 alice
add_session 11 1000 alice
add_session 20 1001 bob
add_session 30 1002 carol
add_session 40 1003 dave
write_record ra alice 10 $CARD
write_record rc carol 30 $CARD
write_record rb bob 20 DENK0200002	# another token, not there
write_record rd dave 40 DENK0100001	# the fake Nitrokey's USB serial

# $T/kit remove|insert|freeze|thaw: the kit's controls, for testbed scripts.
cat > "$T/kit" <<EOF
#!/bin/sh
"$SCHSM_EMU" "\$1" "$CARD_DIR" >/dev/null 2>&1 || exit 1
[ "\$1" != insert ] || renice -n 19 -p "\$(cat "$CARD_DIR/card.pid")" >/dev/null 2>&1
exit 0
EOF
chmod 755 "$T/kit"
KIT="$T/kit"
# A stopped emulator must not outlive the test.
CLEANUP="\"$SCHSM_EMU\" thaw \"$CARD_DIR\" >/dev/null 2>&1; $CLEANUP"

conf() {
	write_conf "rundir = $T/run" "settle = 300ms" "card_timeout = ${TIMEOUT:-4s}" \
	    "insert_exec = $REC $T/actions add" "remove_exec = $REC $T/actions rm" \
	    "rate_limit = 100/60s" "$@"
}

# reset_actions: an empty outbox.
reset_actions() {
	rm -rf "$T/actions"
	mkdir -m 1777 "$T/actions"
}

# only_action TAG KEY=VALUE...: exactly one TAG action ran, with these.
only_action() {
	tag=$1
	shift
	n=$(ls "$T/actions" | grep -c "^$tag\.[0-9]*\$")
	if [ "$n" -ne 1 ]; then
		fail "$tag actions ran $n times, wanted once"
		return
	fi
	f=$(ls "$T/actions/$tag".* | head -1)
	for kv in "$@"; do
		if grep -qx "env:$kv" "$f"; then
			pass "the $tag action got $kv"
		else
			fail "the $tag action did not get $kv"
			grep '^env:NKHSM' "$f" | sed 's/^/  | /'
		fi
	done
}

# line_of TEXT FILE: the line number of TEXT's first occurrence (or 99999).
line_of() {
	n=$(grep -nF -- "$1" "$2" | head -1 | cut -d: -f1)
	echo "${n:-99999}"
}

# before A B FILE DESCRIPTION: A was logged before B.
before() {
	if [ "$(line_of "$1" "$3")" -lt "$(line_of "$2" "$3")" ]; then
		pass "$4"
	else
		fail "$4: '$1' not before '$2'"
		sed 's/^/  | /' "$3" | tail -25
	fi
}

run_testbed() {
	script=$1 log=$2
	shift 2
	: > "$log"
	umockdev-wrapper "$PY" "$TESTBED" "$script" "$log" -- "$@" \
	    >"$log.out" 2>&1 || {
		fail "testbed run $(basename "$script")"
		sed 's/^/  | /' "$log.out" "$log"
	}
}

# 1. The kit's reader: pull the card, put it back.
conf
reset_actions
reset_logind_log
cat > "$T/s1" <<EOF
start
wait-log 1 "initial state: reader Virtual_PCD_00_00: card serial '$CARD' present"
run $KIT remove
wait-log 1 'remove: started'
run $KIT insert
wait-log 1 "'add' (pid"
sleep 1.5
signal USR1
wait-log 1 'state: PC/SC watched'
stop
EOF
run_testbed "$T/s1" "$T/m1.log" "$HOTPLUG" --config "$T/hotplug.conf" --stderr --verbose --monitor
sleep 0.3
check_locked "10 30 " "pulling the card locks exactly the sessions recorded with its serial"
expect_grep "serial '$CARD': 2 of 4 session records bound (the card's own serial)" "$T/m1.log" \
    "the removal is bound by the card's own serial, not by serial_match"
only_action rm NKHSM_EVENT=remove NKHSM_SERIAL=$CARD NKHSM_READER=Virtual_PCD_00_00
only_action add NKHSM_EVENT=add NKHSM_SERIAL=$CARD NKHSM_READER=Virtual_PCD_00_00
before "reader Virtual_PCD_00_00: card serial '$CARD' answered" "add: started" "$T/m1.log" \
    "the insertion actions start after the card answered"

# 2. A card that stops answering when it comes back (the kit's freeze
# within settle): the udev path and the monitor go on; the card's probe
# ends at card_timeout, without insertion actions.
conf "serial_match = exact"
reset_actions
reset_logind_log
cat > "$T/s2" <<EOF
start
wait-log 1 "initial state: reader Virtual_PCD_00_00"
run $KIT remove
wait-log 1 'remove: started'
run $KIT insert
run $KIT freeze
wait-log 1 'its serial is read after settle'
sleep 0.5
dev usb1/1-2 usb usb_device 20a0/4230/101 DENK0200002
wait-log 1 'add /sys/devices/usb1/1-2: insertion actions wait for its card'
unplug usb1/1-2
wait-log 1 'locked session 20 of bob'
signal USR1
wait-log 1 'state: PC/SC watched'
wait-log 1 'the card did not answer within'
run $KIT thaw
stop
EOF
TIMEOUT=5s conf "serial_match = exact"
run_testbed "$T/s2" "$T/m2.log" "$HOTPLUG" --config "$T/hotplug.conf" --stderr --verbose --monitor
"$SCHSM_EMU" thaw "$CARD_DIR" >/dev/null 2>&1
sleep 0.3
check_locked "10 20 30 " "with a frozen card, the udev path still locks"
before "locked session 20 of bob" "the card did not answer within" "$T/m2.log" \
    "the udev removal is acted on while the frozen card's probe waits"
before "state: PC/SC watched" "the card did not answer within" "$T/m2.log" \
    "the monitor answers SIGUSR1 while the frozen card's probe waits"
expect_grep "reader Virtual_PCD_00_00: the card did not answer within 5000ms; no insertion actions" \
    "$T/m2.log" "the frozen card's probe ends at card_timeout"
if [ "$(actions_count add)" -eq 0 ]; then
	pass "no insertion actions for a card that did not answer"
else
	fail "insertion actions ran for a card that did not answer"
fi

# 3. A stuck card in a second reader (vcard.py with a SmartCard-HSM's
# ATR; nkhsm-hotplug-fake never returns from connecting to it) holds up
# nothing: the first reader's card is pulled and put back meanwhile. (With
# vcard's card there, the kit's remove takes its 5 s to give up waiting for
# no card at all; hence the long card_timeout.)
nsenter -t "$(cat "$CARD_DIR/ns.pid")" -n -- "$PY" "$VCARD" 35964 "$SCHSM_ATR" \
    >"$T/vcard.log" 2>&1 &
VCARD_PID=$!
CLEANUP="kill $VCARD_PID 2>/dev/null; $CLEANUP"
reset_actions
reset_logind_log
cat > "$T/s3" <<EOF
start
wait-log 1 "initial state: reader Virtual_PCD_00_00: card serial '$CARD' present"
wait-log 1 'reader Virtual_PCD_00_01: a SmartCard-HSM came'
sleep 0.5
run $KIT remove
wait-log 1 'remove: started'
run $KIT insert
wait-log 1 "'add' (pid"
wait-log 1 'reader Virtual_PCD_00_01: the card did not answer within'
stop
EOF
TIMEOUT=15s conf
NKFAKE_HANG="Virtual PCD 00 01" run_testbed "$T/s3" "$T/m3.log" \
    "$FAKE" --config "$T/hotplug.conf" --stderr --verbose --monitor
sleep 0.3
check_locked "10 30 " "with a stuck card in another reader, pulling this one locks"
only_action add NKHSM_SERIAL=$CARD NKHSM_READER=Virtual_PCD_00_00
before "add: started" "reader Virtual_PCD_00_01: the card did not answer within" "$T/m3.log" \
    "the card put back answers while the other reader's card is stuck"
kill $VCARD_PID 2>/dev/null
wait $VCARD_PID 2>/dev/null
card_wait_reader "Virtual PCD 00 01" no || fail "vcard's card is still in its reader"

# 4. A Nitrokey HSM: its reader is named after its USB serial and goes
# away with it. Pulled udev-first, inserted, pulled PC/SC-first.
touch "$T/plug"
reset_actions
reset_logind_log
cat > "$T/s4" <<EOF
dev usb1/1-1 usb usb_device 20a0/4230/101 DENK0100001
start
wait-log 1 "initial state: reader $NK_LABEL: card serial '$CARD' present"
unplug usb1/1-1
run rm $T/plug
run $KIT remove
wait-log 1 'remove: started'
wait-log 1 "reader $NK_LABEL went away"
run $KIT insert
dev usb1/1-1 usb usb_device 20a0/4230/101 DENK0100001
wait-log 1 'add /sys/devices/usb1/1-1: insertion actions wait for its card'
run touch $T/plug
wait-log 1 "'add' (pid"
sleep 1
run rm $T/plug
wait-log 2 'remove: started'
unplug usb1/1-1
wait-log 1 'remove /sys/devices/usb1/1-1: already absent, coalesced'
run $KIT remove
wait-log 2 "'rm' (pid"
sleep 0.5
stop
EOF
conf
NKFAKE_READER="Virtual PCD 00 00" NKFAKE_NAME="$NK_NAME" NKFAKE_PLUG="$T/plug" \
    run_testbed "$T/s4" "$T/m4.log" "$FAKE" --config "$T/hotplug.conf" --stderr --verbose --monitor
sleep 0.3
check_locked "10 10 30 30 " "a Nitrokey HSM pulled twice locks its card's sessions once each time"
expect_grep "remove /sys/devices/usb1/1-1: the card in reader $NK_LABEL went with it" "$T/m4.log" \
    "udev first: its removal is its card's"
if [ "$(actions_count rm)" -eq 2 ]; then
	pass "the removal actions ran once per pull"
else
	fail "the removal actions ran $(actions_count rm) times for 2 pulls"
fi
only_action add NKHSM_SERIAL=$CARD NKHSM_READER=$NK_LABEL NKHSM_SYSPATH=/sys/devices/usb1/1-1
expect_no_grep "locked session 40" "$T/m4.log" "a record with the USB serial is not the card's"

# 5. The systemd path: add SYSPATH waits for the card, remove SYSPATH
# locks by the serial it gave; serial_match exact would have bound dave's
# record (the USB serial) instead.
TIMEOUT=2s conf "serial_match = exact"
reset_actions
reset_logind_log
"$KIT" insert
touch "$T/plug"
cat > "$T/s5" <<EOF
dev usb1/1-4 usb usb_device 20a0/4230/101 DENK0100001
run $FAKE --config $T/hotplug.conf --stderr add /sys/devices/usb1/1-4
unplug usb1/1-4
run rm $T/plug
run $FAKE --config $T/hotplug.conf --stderr remove /sys/devices/usb1/1-4
dev usb1/1-5 usb usb_device 20a0/4230/101 DENK0999999
run $FAKE --config $T/hotplug.conf --stderr add /sys/devices/usb1/1-5
dev usb1/1-6 usb usb_device 20a0/4230/101 DENK0999998
run env PCSCLITE_CSOCK_NAME=$T/no-pcscd $FAKE --config $T/hotplug.conf --stderr add /sys/devices/usb1/1-6
EOF
NKFAKE_READER="Virtual PCD 00 00" NKFAKE_NAME="$NK_NAME" NKFAKE_PLUG="$T/plug" \
    umockdev-wrapper "$PY" "$TESTBED" "$T/s5" "$T/m5.log" -- true >"$T/m5.out" 2>&1
sleep 0.3
expect_grep "add /sys/devices/usb1/1-4: card serial '$CARD' answered in reader $NK_LABEL" \
    "$T/m5.out" "add SYSPATH waits for the card to answer"
check_locked "10 30 " "remove SYSPATH locks by the serial the card gave at add"
expect_grep "add /sys/devices/usb1/1-5: no card answered over PC/SC within 2000ms" "$T/m5.out" \
    "add SYSPATH with no card answering runs nothing"
expect_grep "run $FAKE: 1" "$T/m5.out" "... and exits 1"
expect_grep "add /sys/devices/usb1/1-6: pcscd is not reachable; acting on the USB event" \
    "$T/m5.out" "add SYSPATH without pcscd acts on the USB event"
if [ "$(actions_count add)" -eq 2 ] &&
    grep -lx 'env:NKHSM_SERIAL=DENK0999998' "$T/actions"/add.* >/dev/null 2>&1 &&
    grep -lx "env:NKHSM_SERIAL=$CARD" "$T/actions"/add.* >/dev/null 2>&1; then
	pass "insertion actions: the card's serial, and the USB serial without pcscd"
else
	fail "insertion actions of the systemd path"
	grep -h 'NKHSM_SERIAL' "$T/actions"/add.* 2>/dev/null | sed 's/^/  | /'
fi

finish
