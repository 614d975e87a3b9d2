# SPDX-License-Identifier: BSD-2-Clause
# logind-common.sh - sourced by tests that lock sessions (hotplug-common.sh,
# card-session.sh): a private bus standing in for the system bus, with
# python3-dbusmock's logind on it, and what was asked of it. Needs $T,
# CLEANUP (run at exit) and root.

# A Python with GObject introspection, UMockdev and dbusmock (Debian's
# /usr/bin/python3; a pyenv or venv python usually lacks them).
find_python() {
	for PY in /usr/bin/python3 python3; do
		"$PY" -c 'import gi, dbusmock; gi.require_version("UMockdev", "1.0"); from gi.repository import UMockdev' \
		    >/dev/null 2>&1 && return 0
	done
	return 1
}

# A private bus standing in for the system bus, with a mock logind on it.
start_logind() {
	command -v dbus-daemon >/dev/null 2>&1 || { echo "skip: dbus-daemon missing"; exit 77; }
	command -v dbus-send >/dev/null 2>&1 || { echo "skip: dbus-send missing"; exit 77; }
	cat > "$T/bus.conf" <<-EOF
	<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
	 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
	<busconfig>
	  <type>session</type>
	  <listen>unix:path=$T/bus</listen>
	  <auth>EXTERNAL</auth>
	  <policy context="default">
	    <allow send_destination="*" eavesdrop="true"/>
	    <allow eavesdrop="true"/>
	    <allow own="*"/>
	  </policy>
	</busconfig>
	EOF
	dbus-daemon --config-file="$T/bus.conf" --nofork --print-address=1 \
	    >"$T/bus.addr" 2>"$T/bus.err" &
	BUS_PID=$!
	CLEANUP="kill $BUS_PID 2>/dev/null; wait $BUS_PID 2>/dev/null; $CLEANUP"
	DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/bus"
	export DBUS_SYSTEM_BUS_ADDRESS
	i=0
	while [ ! -S "$T/bus" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "private dbus-daemon did not start"; exit 99; }
		sleep 0.05
	done
	: > "$T/logind.log"
	"$PY" -m dbusmock --system --template logind -l "$T/logind.log" \
	    >"$T/mock.out" 2>&1 &
	MOCK_PID=$!
	CLEANUP="kill $MOCK_PID 2>/dev/null; wait $MOCK_PID 2>/dev/null; $CLEANUP"
	i=0
	until logind_call org.freedesktop.login1.Manager.ListSessions >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "mock logind did not start"; exit 99; }
		sleep 0.05
	done
}

logind_call() {
	dbus-send --system --print-reply --dest=org.freedesktop.login1 \
	    /org/freedesktop/login1 "$@"
}

# add_session ID UID USER
add_session() {
	logind_call org.freedesktop.DBus.Mock.AddSession string:"$1" \
	    string:seat0 uint32:"$2" string:"$3" boolean:true >/dev/null
}

# session_set_locked ID: what a screen locker does once it locked.
session_set_locked() {
	dbus-send --system --print-reply --dest=org.freedesktop.login1 \
	    "/org/freedesktop/login1/session/$1" \
	    org.freedesktop.login1.Session.SetLockedHint boolean:true >/dev/null
}

# The mock's calls since the last reset_logind_log (the mock keeps writing
# at its own offset, so the log is never truncated, only skipped).
LOGIND_SEEN=0
logind_calls() {
	tail -c +$((LOGIND_SEEN + 1)) "$T/logind.log" | tr -d '\000'
}
reset_logind_log() {
	LOGIND_SEEN=$(wc -c < "$T/logind.log")
}
# locked_ids: the session ids LockSession was called with, sorted.
locked_ids() {
	logind_calls | sed -n 's/^[0-9.]* LockSession "\(.*\)"$/\1/p' | sort | tr '\n' ' '
}
terminated_ids() {
	logind_calls | sed -n 's/^[0-9.]* TerminateSession "\(.*\)"$/\1/p' | sort | tr '\n' ' '
}
