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

# start_logind, the mock's calls, find_python.
. "$top_srcdir/tests/integration/logind-common.sh"

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
