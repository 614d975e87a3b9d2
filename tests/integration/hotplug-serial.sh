#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# hotplug-serial.sh - nkhsm-hotplug compares serials exactly, never by
# prefix: an owner line or a session record names the device whose serial
# equals its own, not one whose serial extends or shortens it, nor one
# whose serial had to be sanitized or cut to be kept. At insertion that
# decides who is an owner (user_exec, NKHSM_OWNER); at removal, which
# owners lock-owner locks, and under serial_match absent, which present
# token keeps a record from being bound.
. "${top_srcdir:-.}/tests/integration/hotplug-common.sh"
need_testbed
start_logind
install_recorder

A=DENK0100001
add_session 10 1000 alice
add_session 20 1001 bob
add_session 30 1002 carol
write_record ra alice 10 $A

# --- insertion: who owns the token (a dry run prints the plan) ---
# owners SERIAL: the users the per-user action would run as.
owners() {
	env ACTION=add SUBSYSTEM=usb DEVTYPE=usb_device PRODUCT=20a0/4230/101 \
	    DEVPATH=/devices/usb9/9-9 ID_SERIAL_SHORT="$1" SEQNUM=3 \
	    "$HOTPLUG" --config "$T/hotplug.conf" --stderr --dry-run add >"$T/out" 2>"$T/err"
	sed -n "s/^plan: run '[^']*' as \([a-z]*\) with .*/\1/p" "$T/out" | sort | tr '\n' ' '
}
# check_owners SERIAL WANT DESCRIPTION
check_owners() {
	got=$(owners "$1")
	if [ "$got" = "$2" ]; then
		pass "$3"
	else
		fail "$3: owners '$got', wanted '$2'"
		sed 's/^/  | /' "$T/out" "$T/err" | tail -6
	fi
}
LONG=$(printf 'L%063d' 0)	# 64 characters, the most a serial keeps
write_conf "rundir = $T/run" "user_exec = $REC" "owner = $A bob" \
    "owner = DENK0100_002 carol" "owner = $LONG carol"
check_owners $A "alice bob " "insert: the owner line and the record name the token"
check_owners ${A}0 "" "insert: a serial that extends the owner's names nobody"
check_owners DENK010000 "" "insert: a serial that shortens the owner's names nobody"
check_owners DENK0100_002 "carol " "insert: an owner serial with '_' is matched as it is"
check_owners 'DENK0100;002' "" "insert: a serial sanitized into an owner's names nobody"
check_owners "${LONG}X" "" "insert: a serial cut to an owner's 64 characters names nobody"

# --- removal, lock-owner: only the owners of that exact serial ---
write_conf "rundir = $T/run" "serial_match = exact" "on_remove = lock-owner" "owner = $A bob"
reset_logind_log
remove_env $A >"$T/out" 2>"$T/err"
check_locked "10 20 " "remove, lock-owner: the record's user and the owner of the serial"
reset_logind_log
remove_env ${A}00000 >"$T/out" 2>"$T/err"
check_locked "" "remove, lock-owner: a serial that extends the owner's locks nobody"

# --- removal, absent: a present token shields only its own records ---
# check_absent PRESENT_SERIAL WANT DESCRIPTION: token A's record while a
# token claiming PRESENT_SERIAL stays attached and another one goes.
check_absent() {
	write_conf "rundir = $T/run"
	reset_logind_log
	cat > "$T/script" <<-EOF2
	dev usb1/1-1 usb usb_device 20a0/4230/101 $1
	run env ACTION=remove SUBSYSTEM=usb DEVTYPE=usb_device PRODUCT=20a0/4230/101 DEVPATH=/devices/usb1/1-2 ID_SERIAL_SHORT=OTHER $HOTPLUG --config $T/hotplug.conf --stderr remove
	EOF2
	umockdev-wrapper "$PY" "$TESTBED" "$T/script" "$T/tb.log" -- true >"$T/out" 2>"$T/err"
	check_locked "$2" "$3"
}
check_absent $A "" "absent: token A still attached keeps its record unbound"
check_absent ${A}0 "10 " "absent: a token whose serial extends A's does not"
check_absent DENK010000 "10 " "absent: a token whose serial shortens A's does not"
finish
