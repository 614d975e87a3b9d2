#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# hotplug-monitor.sh - nkhsm-hotplug --monitor against a umockdev testbed:
# fake USB devices appear and go, the configured actions record what they
# get. Proves: tokens present at start are state, not events; only a whole
# 20a0:4230 USB device counts (another Nitrokey model, a USB interface and a
# non-USB device are ignored); a duplicate add is coalesced; actions get a
# fixed argv, a clean environment with sanitized NKHSM_* values, no inherited
# descriptors, their own session, and the configured user; hostile serials
# (';', spaces, $(...), backquotes, a newline) execute nothing; --dry-run
# runs nothing.
. "${top_srcdir:-.}/tests/integration/hotplug-common.sh"
need_testbed
install_recorder
make_user

sanitize() {
	printf '%s' "$1" | tr -c 'A-Za-z0-9._:-' '_' | cut -c1-64
}

HOSTILE_PROP="a;b \$(touch $T/pwned1) \`touch $T/pwned2\` c"
HOSTILE_ATTR="evil\\n\$(touch $T/pwned3);rm -rf /x"
mkdir -p "$T/run"
write_conf "settle = 100ms" \
    "insert_exec = $REC $T/actions admin-add \"fixed arg\" --flag" \
    "remove_exec = $REC $T/actions admin-remove" \
    "user_exec = $REC $T/actions user-add" \
    "owner = DENK0100001 $HP_USER" \
    "rundir = $T/run" \
    "rate_limit = 50/60s"

cat > "$T/script" <<EOF
dev usb1/1-1 usb usb_device 20a0/4230/101 DENK0100000
start
dev usb1/1-2 usb usb_device 20a0/4230/101 DENK0100001
wait-log 2 'add: started'
dev usb1/1-3 usb usb_device 20a0/4211/100 OTHERMODEL
dev usb1/1-5:1.0 usb usb_interface 20a0/4230/101 IFACE
dev hidraw0 hidraw - 20a0/4230/101 NONUSB
dev usb2/2-1 usb usb_device 20a0/4230/101 '$HOSTILE_PROP'
wait-log 3 'add: started'
dev usb2/2-2 usb usb_device 20a0/4230/101 - '$HOSTILE_ATTR'
wait-log 4 'add: started'
uevent usb1/1-2 add
sleep 0.3
unplug usb1/1-2
wait-log 1 'remove: started'
uevent usb1/1-1 remove
wait-log 2 'remove: started'
uevent usb1/1-1 remove
sleep 0.3
signal USR1
wait-log 1 'lock rounds'
stop
EOF
testbed "$T/script" "$T/mon.log" --config "$T/hotplug.conf" --stderr \
    --verbose --monitor > "$T/tb.out" 2>&1
rc=$?
if [ $rc -eq 0 ]; then
	pass "monitor ran the scenario and stopped cleanly"
else
	fail "monitor scenario: testbed exit $rc"
	cat "$T/tb.out"
	tail -20 "$T/mon.log"
fi
sleep 0.2	# the last actions finish writing

expect_grep "initial state: /sys/devices/usb1/1-1 serial 'DENK0100000' present (no actions)" \
    "$T/mon.log" "a token present at start is initial state"
cat "$T/actions"/admin-add.* 2>/dev/null | grep '^env:NKHSM_SERIAL=' | sort > "$T/add-serials"
printf 'env:NKHSM_SERIAL=%s\n' DENK0100001 "$(sanitize "$HOSTILE_PROP")" \
    "$(sanitize "$(printf 'evil\n$(touch %s/pwned3);rm -rf /x' "$T")")" | sort > "$T/want-serials"
if cmp -s "$T/add-serials" "$T/want-serials"; then
	pass "insert actions ran exactly for the three tokens inserted after start"
else
	fail "insert actions: serials differ"
	diff "$T/want-serials" "$T/add-serials" | sed 's/^/  /'
fi
for s in DENK0100000 OTHERMODEL IFACE NONUSB; do
	if cat "$T/actions"/*-add.* 2>/dev/null | grep -q "NKHSM_SERIAL=$s"; then
		fail "an action ran for $s"
	else
		pass "no action for $s"
	fi
done
expect_grep "add /sys/devices/usb1/1-2: already present, coalesced" "$T/mon.log" \
    "a duplicate add is coalesced"
expect_grep "event /devices/usb1/1-3 ignored: not a Nitrokey HSM (20a0:4230)" \
    "$T/mon.log" "another Nitrokey model is ignored"
expect_grep "event /devices/usb1/1-5:1.0 ignored: not a whole USB device" \
    "$T/mon.log" "a USB interface is ignored"

# What the admin action saw.
f=$(grep -l 'NKHSM_SERIAL=DENK0100001$' "$T/actions"/admin-add.* 2>/dev/null | head -1)
if [ -n "$f" ]; then
	expect_grep "arg0=$T/actions" "$f" "argv[1] is the configured word"
	expect_grep "arg2=fixed arg" "$f" "a quoted argument stays one word"
	expect_grep "arg3=--flag" "$f" "argv[3] is the configured word"
	expect_grep "uid=0" "$f" "admin action runs as root without run_as"
	# PWD, SHLVL and _ are set by bash itself.
	envs=$(grep '^env:' "$f" | sed 's/^env:\([^=]*\)=.*/\1/' | grep -v '^\(PWD\|SHLVL\|_\)$' | tr '\n' ' ')
	if [ "$envs" = "HOME LOGNAME NKHSM_EVENT NKHSM_OWNER NKHSM_SERIAL NKHSM_SYSPATH PATH USER " ]; then
		pass "clean environment: only PATH, HOME, USER, LOGNAME and NKHSM_*"
	else
		fail "environment is not clean: $envs"
	fi
	expect_grep "env:NKHSM_EVENT=add" "$f" "NKHSM_EVENT=add"
	expect_grep "env:NKHSM_SYSPATH=/sys/devices/usb1/1-2" "$f" "NKHSM_SYSPATH is the device"
	expect_grep "env:NKHSM_OWNER=$HP_USER" "$f" "NKHSM_OWNER from the owner line"
	pid=${f##*.}
	if grep -qx "pgid=$pid" "$f" && grep -qx "sid=$pid" "$f"; then
		pass "the action leads its own session and process group"
	else
		fail "the action does not lead its own session/group"
		grep 'id=' "$f"
	fi
	if grep '^fd ' "$f" | grep -v '^fd [012] ' | grep -v " $T/bin/record\$" | grep -q .; then
		fail "descriptors above 2 reached the action"
		grep '^fd ' "$f" | sed 's/^/  /'
	else
		pass "no descriptor above 2 reached the action"
	fi
	expect_grep "fd 0 /dev/null" "$f" "stdin is /dev/null"
else
	fail "no admin action record for DENK0100001"
fi

f=$(ls "$T/actions"/user-add.* 2>/dev/null | head -1)
if [ -n "$f" ] && [ "$(ls "$T/actions"/user-add.* | wc -l)" -eq 1 ]; then
	expect_grep "uid=$HP_UID" "$f" "the per-user action runs as the token's owner"
	expect_grep "env:USER=$HP_USER" "$f" "the per-user action has the owner's USER"
	expect_grep "env:NKHSM_SERIAL=DENK0100001" "$f" "the per-user action is for the owned token"
else
	fail "expected exactly one per-user action (owned token only)"
fi

for n in 1 2 3; do
	if [ -e "$T/pwned$n" ]; then
		fail "a hostile serial executed something (pwned$n)"
	else
		pass "hostile serial $n executed nothing"
	fi
done
if grep -q 'NKHSM_SERIAL=.*[;$ `]' "$T/actions"/* 2>/dev/null; then
	fail "an unsanitized serial reached an action"
else
	pass "serials reach actions only sanitized"
fi

rm_count=$(ls "$T/actions"/admin-remove.* 2>/dev/null | wc -l)
if [ "$rm_count" -eq 2 ]; then
	pass "removal actions ran once per removal (duplicate remove coalesced)"
else
	fail "removal actions ran $rm_count times, wanted 2"
fi
expect_grep "env:NKHSM_SERIAL=DENK0100001" "$(ls "$T/actions"/admin-remove.* | head -2 | xargs grep -l DENK0100001 | head -1)" \
    "the removal action got the removed token's serial"
expect_grep "remove /sys/devices/usb1/1-1: already absent, coalesced" "$T/mon.log" \
    "a duplicate remove is coalesced"
expect_grep "state: /sys/devices/usb2/2-1" "$T/mon.log" "SIGUSR1 dumps the state"

# --dry-run: the plan is printed, nothing runs.
rm -rf "$T/actions"
mkdir -m 1777 "$T/actions"
cat > "$T/script2" <<EOF
start
dev usb1/1-7 usb usb_device 20a0/4230/101 DENK0100001
wait-log 2 'plan: run'
unplug usb1/1-7
wait-log 3 'plan: run'
stop
EOF
testbed "$T/script2" "$T/dry.log" --config "$T/hotplug.conf" --stderr \
    --dry-run --monitor > "$T/tb2.out" 2>&1
rc=$?
[ $rc -eq 0 ] && pass "dry-run monitor ran" || { fail "dry-run monitor: exit $rc"; cat "$T/tb2.out"; }
expect_grep "plan: run '$REC' '$T/actions' 'admin-add' 'fixed arg' '--flag' as root with NKHSM_EVENT=add NKHSM_SERIAL=DENK0100001" \
    "$T/dry.log" "--dry-run prints the planned insert action"
expect_grep "plan: run '$REC' '$T/actions' 'user-add' as $HP_USER" "$T/dry.log" \
    "--dry-run prints the planned per-user action"
if [ -z "$(ls "$T/actions")" ]; then
	pass "--dry-run ran nothing"
else
	fail "--dry-run ran actions: $(ls "$T/actions")"
fi

# The systemd path (add SYSPATH): an admin action dropped to run_as, past
# its timeout, is killed with its whole process group.
rm -rf "$T/actions"
mkdir -m 1777 "$T/actions"
write_conf "settle = 0ms" "timeout = 500ms" "rundir = $T/run" "run_as = $HP_USER" \
    "insert_exec = $REC $T/actions hang"
cat > "$T/script3" <<EOF
dev usb3/3-1 usb usb_device 20a0/4230/101 DENK0300003
run $HOTPLUG --config $T/hotplug.conf --stderr add /sys/devices/usb3/3-1
EOF
umockdev-wrapper "$PY" "$TESTBED" "$T/script3" "$T/tb3.log" -- true > "$T/tb3.out" 2>&1
expect_grep "run $HOTPLUG: 1" "$T/tb3.out" "a timed-out action makes the run fail (exit 1)"
expect_grep "timed out; killing its process group" "$T/tb3.out" "the timeout is logged"
f=$(ls "$T/actions"/hang.* 2>/dev/null | head -1)
if [ -n "$f" ]; then
	expect_grep "uid=$HP_UID" "$f" "run_as drops the admin action to the configured user"
	bg=$(sed -n 's/^bg=//p' "$f")
	sleep 0.2
	state=$(awk '{ print $3 }' "/proc/$bg/stat" 2>/dev/null)
	if [ -n "$bg" ] && { [ -z "$state" ] || [ "$state" = Z ]; }; then
		pass "the action's background child died with its process group"
	else
		fail "the action's background child $bg survived (state '$state')"
		kill "$bg" 2>/dev/null
	fi
else
	fail "the hanging action did not run"
	cat "$T/tb3.out"
fi

finish
