# SPDX-License-Identifier: BSD-2-Clause
# hotplug-common.sh - sourced by the nkhsm-hotplug tests (and bench/hotplug.sh).
#
# Same conventions as common.sh (pass/fail/finish, exit 77 to skip), without
# its SoftHSM setup: these tests need a umockdev testbed, a private D-Bus
# with python3-dbusmock's logind, and root (the configuration, its programs
# and the session records must be root's).

set -u
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
HOTPLUG="$top_builddir/udev/nkhsm-hotplug"
TESTBED="$top_srcdir/tests/hotplug/testbed.py"
RECORDER="$top_srcdir/tests/hotplug/record-action.sh"

[ -x "$HOTPLUG" ] || { echo "nkhsm-hotplug not built"; exit 99; }
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root (root-owned config and records)"; exit 77; }

T=$(mktemp -d "${TMPDIR:-/tmp}/nkhsm-hp.XXXXXX")
chmod 700 "$T"
CLEANUP=
cleanup() {
	eval "$CLEANUP"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 99' INT TERM
# No pcscd unless a test starts one (card-common.sh): the udev path alone,
# whatever this machine runs.
PCSCLITE_CSOCK_NAME="$T/no-pcscd"
export PCSCLITE_CSOCK_NAME

# pass, fail, finish, expect_exit.
. "$top_srcdir/tests/integration/assert.sh"

# expect_grep PATTERN FILE DESCRIPTION (fixed string)
expect_grep() {
	if grep -qF -- "$1" "$2" 2>/dev/null; then
		pass "$3"
	else
		fail "$3: '$1' not in $(basename "$2")"
		sed 's/^/  | /' "$2" 2>/dev/null | tail -8
	fi
}

# expect_no_grep PATTERN FILE DESCRIPTION
expect_no_grep() {
	if grep -qF -- "$1" "$2" 2>/dev/null; then
		fail "$3: '$1' found in $(basename "$2")"
		grep -F -- "$1" "$2" | head -3 | sed 's/^/  | /'
	else
		pass "$3"
	fi
}

# A Python with GObject introspection, UMockdev and dbusmock (Debian's
# /usr/bin/python3; a pyenv or venv python usually lacks them).
find_python() {
	for PY in /usr/bin/python3 python3; do
		"$PY" -c 'import gi, dbusmock; gi.require_version("UMockdev", "1.0"); from gi.repository import UMockdev' \
		    >/dev/null 2>&1 && return 0
	done
	return 1
}

need_testbed() {
	command -v umockdev-wrapper >/dev/null 2>&1 || { echo "skip: umockdev-wrapper missing"; exit 77; }
	find_python || { echo "skip: python3 with gi/UMockdev/dbusmock missing"; exit 77; }
}

# testbed SCRIPT LOG ARGS...: nkhsm-hotplug ARGS inside a umockdev testbed.
testbed() {
	script=$1 log=$2
	shift 2
	umockdev-wrapper "$PY" "$TESTBED" "$script" "$log" -- "$HOTPLUG" "$@"
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

# write_record NAME USER SESSION_ID SERIAL [MODE]: a pam_nkhsm session record.
write_record() {
	mkdir -p "$T/run"
	chmod 755 "$T/run"
	printf 'user=%s\nuid=0\nservice=test\ntty=\nrhost=\nsession_id=%s\npid=%s\nserial=%s\nlabel=nk\nkey=SHA256:x\ncreated=1\n' \
	    "$2" "$3" "$$" "$4" > "$T/run/session-$1"
	chmod "${5:-644}" "$T/run/session-$1"
}

# write_conf LINE...: $T/hotplug.conf, root's, mode 600.
write_conf() {
	: > "$T/hotplug.conf"
	for l in "$@"; do
		printf '%s\n' "$l" >> "$T/hotplug.conf"
	done
	chmod 600 "$T/hotplug.conf"
}

# The recording action, copied where the safe-path rules accept it.
install_recorder() {
	mkdir -p "$T/bin" "$T/actions"
	# Per-user actions run as a test user: let it through to its outbox.
	chmod 711 "$T"
	chmod 755 "$T/bin"
	chmod 1777 "$T/actions"
	cp "$RECORDER" "$T/bin/record"
	chmod 755 "$T/bin/record"
	REC="$T/bin/record"
}

# actions_count TAG: how many runs of the recording action with TAG.
actions_count() {
	ls "$T/actions" 2>/dev/null | grep -c "^$1\." || true
}

# a test user for per-user actions and run_as
make_user() {
	HP_USER=nkh$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
	useradd -M -d / -s /usr/sbin/nologin "$HP_USER" || exit 99
	CLEANUP="userdel $HP_USER 2>/dev/null; $CLEANUP"
	HP_UID=$(id -u "$HP_USER")
}

# remove_env SERIAL ARGS...: a udev RUN+= style removal event of a Nitrokey
# HSM with that serial, handled under $T/hotplug.conf.
remove_env() {
	serial=$1
	shift
	env ACTION=remove SUBSYSTEM=usb DEVTYPE=usb_device PRODUCT=20a0/4230/101 \
	    DEVPATH=/devices/usb9/9-9 ID_SERIAL_SHORT="$serial" SEQNUM=7 \
	    "$HOTPLUG" --config "$T/hotplug.conf" --stderr "$@" remove
}

# check_locked WANT DESCRIPTION: the sessions LockSession was called for.
check_locked() {
	got=$(locked_ids)
	if [ "$got" = "$1" ]; then
		pass "$2"
	else
		fail "$2: locked '$got', wanted '$1'"
		sed 's/^/  | /' "$T/err" | tail -12
	fi
}
