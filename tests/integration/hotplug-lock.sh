#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# hotplug-lock.sh - locking on removal against python3-dbusmock's logind on
# a private bus. pam_nkhsm-style session records bind sessions to tokens;
# the removal of a token must call LockSession for exactly:
#   lock-token: the sessions its trusted records name (all sessions of the
#               user when a record has no session id), nothing else;
#   lock-owner: every session of the users bound to it and of its owners;
# under serial_match exact and absent (with another token present,
# seen through the umockdev testbed). Untrusted records (group/world-
# writable, not root's) and records whose session belongs to someone else
# lock nothing. escalate=terminate ends only sessions that did not lock.
# Also: the systemd path (add/remove SYSPATH, serial kept between the two),
# --monitor locking on unplug, --dry-run, on_remove none, an unsafe rundir.
. "${top_srcdir:-.}/tests/integration/hotplug-common.sh"
need_testbed
start_logind

A=DENK0100001	# token serials as pam_nkhsm records them
B=DENK0200002
add_session 10 1000 alice
add_session 11 1000 alice
add_session 20 1001 bob
add_session 30 1002 carol
write_record ra alice 10 $A
write_record rb bob 20 $B
write_record rc carol "" $A		# no logind id: all of carol's sessions
write_record rd dave 99 $A		# session gone
write_record re erin 20 $A		# names bob's session
write_record rf bob 20 $A 602		# world-writable: not trusted
write_record rg bob 20 $A 664		# group-writable: not trusted
write_record rh bob 20 $A
chown nobody "$T/run/session-rh"	# not root's: not trusted

write_conf "rundir = $T/run" "serial_match = exact"
reset_logind_log
expect_exit 0 "lock-token, exact: removal succeeds" remove_env $A
check_locked "10 30 " "lock-token: only the sessions bound to the token (10 by id, 30 by user)"
expect_grep "record session-rd: session 99 is gone" "$T/err" "a record of a closed session locks nothing"
expect_grep "record session-re: session 20 belongs to bob, not erin; not locked" "$T/err" \
    "a record naming another user's session locks nothing"
expect_grep "session-rf: is world-writable" "$T/err" "a world-writable record is not trusted"
expect_grep "session-rg: is group-writable" "$T/err" "a group-writable record is not trusted"
expect_grep "session-rh: owned by uid" "$T/err" "a record not owned by root is not trusted"

reset_logind_log
expect_exit 0 "the other token's removal" remove_env $B
check_locked "20 " "lock-token: removing token B locks only bob's bound session"

write_conf "rundir = $T/run" "serial_match = exact" "on_remove = lock-owner"
reset_logind_log
remove_env $A >"$T/out" 2>"$T/err"
check_locked "10 11 30 " "lock-owner: every session of the users bound to the token"
write_conf "rundir = $T/run" "serial_match = exact" "on_remove = lock-owner" \
    "owner = $A bob" "owner = $B carol"
reset_logind_log
remove_env $A >"$T/out" 2>"$T/err"
check_locked "10 11 20 30 " "lock-owner: and every session of its configured owner"

write_conf "rundir = $T/run" "serial_match = exact"
reset_logind_log
remove_env ${A}00000 >"$T/out" 2>"$T/err"
check_locked "" "exact: a USB serial extending the token serial does not bind"

write_conf "rundir = $T/run" "on_remove = none"
reset_logind_log
expect_exit 0 "on_remove none" remove_env $A
check_locked "" "on_remove none locks nothing"

write_conf "rundir = $T/run" "serial_match = exact"
reset_logind_log
remove_env $A --dry-run >"$T/out" 2>"$T/err"
expect_grep "plan: lock session 10 of alice (bound by record session-ra)" "$T/out" \
    "--dry-run prints the lock it would request"
check_locked "" "--dry-run requests no lock"

# Escalation: 10 locks (its locker sets LockedHint), 30 does not.
write_conf "rundir = $T/run" "serial_match = exact" "escalate = terminate" "grace = 300ms"
session_set_locked 10
reset_logind_log
remove_env $A >"$T/out" 2>"$T/err"
check_locked "10 30 " "escalation: both bound sessions get LockSession first"
got=$(terminated_ids)
if [ "$got" = "30 " ]; then
	pass "escalation terminates only the session that did not lock"
else
	fail "escalation terminated '$got', wanted '30 '"
	tail -5 "$T/err"
fi

# ListSessions failing (here: a dbus-send that refuses it) must not mean
# "lock nothing": the session ids the bound records name are locked unchecked.
mkdir -p "$T/bin"
chmod 755 "$T/bin"
cat > "$T/bin/dbus-send" <<'EOF'
#!/bin/sh
for a in "$@"; do
	case $a in *.ListSessions) echo "Error: refused" >&2; exit 1 ;; esac
done
exec /usr/bin/dbus-send "$@"
EOF
chmod 755 "$T/bin/dbus-send"
write_conf "rundir = $T/run" "serial_match = exact" "dbus_send = $T/bin/dbus-send"
reset_logind_log
expect_exit 1 "a failed ListSessions is reported" remove_env $A
check_locked "10 20 99 " "a failed ListSessions still locks the recorded session ids"

# An unsafe rundir: its records are not believed, and that is an error.
chmod 777 "$T/run"
write_conf "rundir = $T/run" "serial_match = exact"
reset_logind_log
expect_exit 1 "a group/world-writable rundir is an error" remove_env $A
expect_grep "its session records are not trusted" "$T/err" "the unsafe rundir is named"
check_locked "" "no lock from an untrusted rundir"
chmod 755 "$T/run"

expect_exit 2 "ACTION=remove given to 'add' is a usage error" \
    env ACTION=remove SUBSYSTEM=usb DEVTYPE=usb_device PRODUCT=20a0/4230/101 \
    DEVPATH=/devices/usb9/9-9 "$HOTPLUG" --config "$T/hotplug.conf" add
expect_exit 0 "another device's event is ignored" \
    env ACTION=remove SUBSYSTEM=usb DEVTYPE=usb_device PRODUCT=20a0/4211/101 \
    DEVPATH=/devices/usb9/9-9 "$HOTPLUG" --config "$T/hotplug.conf" remove

# serial_match absent (the default), with token B still attached: only the
# records matching no present token are bound.
write_conf "rundir = $T/run"
reset_logind_log
cat > "$T/script" <<EOF
dev usb1/1-1 usb usb_device 20a0/4230/101 $B
run env ACTION=remove SUBSYSTEM=usb DEVTYPE=usb_device PRODUCT=20a0/4230/101 DEVPATH=/devices/usb1/1-2 ID_SERIAL_SHORT=UNRELATED $HOTPLUG --config $T/hotplug.conf --stderr remove
EOF
umockdev-wrapper "$PY" "$TESTBED" "$T/script" "$T/tb.log" -- true >"$T/out" 2>"$T/err"
check_locked "10 30 " "absent: with token B present, only token A's sessions lock"
reset_logind_log
remove_env UNRELATED >"$T/out" 2>"$T/err"
check_locked "10 20 30 " "absent: with no token present, every bound session locks"

# The systemd unit's path: add SYSPATH remembers the serial, remove SYSPATH
# (after the device left sysfs) uses it.
write_conf "rundir = $T/run" "serial_match = exact" "settle = 0ms"
reset_logind_log
cat > "$T/script" <<EOF
dev usb1/1-4 usb usb_device 20a0/4230/101 $A
run $HOTPLUG --config $T/hotplug.conf --stderr add /sys/devices/usb1/1-4
run $HOTPLUG --config $T/hotplug.conf --stderr remove /sys/devices/usb1/1-4
unplug usb1/1-4
run $HOTPLUG --config $T/hotplug.conf --stderr remove /sys/devices/usb1/1-4
EOF
umockdev-wrapper "$PY" "$TESTBED" "$T/script" "$T/tb.log" -- true >"$T/out" 2>"$T/err"
expect_grep "remove /sys/devices/usb1/1-4: the device is still present; not a removal" "$T/err" \
    "remove SYSPATH while the device is there does nothing"
check_locked "10 30 " "remove SYSPATH locks by the serial remembered at add"
if [ ! -e "$T/run/hotplug/dev=sys=devices=usb1=1-4" ] && [ -d "$T/run/hotplug" ]; then
	pass "the device's state file is gone after its removal"
else
	fail "state file left behind: $(ls "$T/run/hotplug")"
fi

# --monitor: pulling the token locks its sessions.
write_conf "rundir = $T/run" "serial_match = exact"
reset_logind_log
cat > "$T/script" <<EOF
dev usb1/1-1 usb usb_device 20a0/4230/101 $A
start
unplug usb1/1-1
wait-log 2 'remove /sys/devices/usb1/1-1: locked session'
stop
EOF
testbed "$T/script" "$T/mon.log" --config "$T/hotplug.conf" --stderr --monitor \
    >"$T/out" 2>&1 || { fail "monitor run"; cat "$T/out"; }
check_locked "10 30 " "--monitor: unplugging the token locks its sessions"

finish
