#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# card-session.sh - the session stack on the emulated SmartCard-HSM, with
# nkhsm-hotplug locking on removal: pam_nkhsm's auth and session stacks
# (pam_wrapper + pamtester) log in with a key on the card and record the
# session (its logind id from the PAM environment, the card's serial);
# nkhsm-hotplug --monitor, watching the card over PC/SC, locks exactly that
# logind session (python3-dbusmock's logind) when the kit pulls the card:
# not the user's other session, not another user's. Putting the card back
# locks nothing and unlocks nothing.
. "${top_srcdir:-.}/tests/integration/common.sh"
. "$top_srcdir/tests/integration/card-common.sh"
. "$top_srcdir/tests/integration/logind-common.sh"
HOTPLUG="$top_builddir/udev/nkhsm-hotplug"
[ -x "$HOTPLUG" ] || { echo "nkhsm-hotplug not built"; exit 99; }
if [ "$(id -u)" -ne 0 ]; then
	card_unavailable "it needs root (a test user, root-owned records)"
fi
pam_setup
find_python || card_unavailable "python3 with gi and dbusmock is missing"
card_start
start_logind

nkc keygen --curve p256 --label login --id 01 --pin-source env:NK_CARD_PIN > "$T/kg" ||
    card_unavailable "keygen on the card failed"
sed -n 's/^ *ssh: *//p' "$T/kg" > "$T/login.pub"
install -o "$PAM_USER" -m 600 "$T/login.pub" "$AUTHFILE"
PAM_UID=$(id -u "$PAM_USER")

# The logind session id, as pam_systemd would put it in the PAM environment.
printf 'XDG_SESSION_ID DEFAULT=51\n' > "$T/env.conf"
CARD_BASE="module=$OPENSC_MODULE helper=$PAM_HELPER conf=$T/nkhsm.conf rundir=$RUNDIR cachedir=$T/cache"
pam_service sess "auth required $PAM_MOD $CARD_BASE" \
    "session required pam_env.so conffile=$T/env.conf readenv=0" \
    "session required $PAM_MOD $CARD_BASE"
pam_run sess "authenticate open_session" "$CARD_PIN\n"
expect_pam "$R_SUCCESS" "auth and session stacks on the card"
rec=$(ls "$RUNDIR"/session-* 2>/dev/null | head -1)
expect_grep "^serial=ESPICOHSMTR\$" "${rec:-/dev/null}" "the session record names the card's serial"
expect_grep "^session_id=51\$" "${rec:-/dev/null}" "the session record names the logind session"

add_session 51 "$PAM_UID" "$PAM_USER"
add_session 52 "$PAM_UID" "$PAM_USER"
add_session 60 0 root
printf 'rundir = %s\nsettle = 300ms\ncard_timeout = 5s\n' "$RUNDIR" > "$T/hotplug.conf"
chmod 600 "$T/hotplug.conf"

: > "$T/mon.log"
"$HOTPLUG" --config "$T/hotplug.conf" --stderr --verbose --monitor \
    >"$T/mon.log" 2>&1 &
HP_PID=$!
CLEANUP="kill $HP_PID 2>/dev/null; wait $HP_PID 2>/dev/null; $CLEANUP"

# wait_log TEXT DESCRIPTION: TEXT in the monitor's log within 15 s.
wait_log() {
	i=0
	until grep -qF -- "$1" "$T/mon.log"; do
		i=$((i + 1))
		if [ $i -ge 150 ] || ! kill -0 $HP_PID 2>/dev/null; then
			fail "$2: '$1' not logged"
			sed 's/^/  | /' "$T/mon.log" | tail -12
			return 1
		fi
		sleep 0.1
	done
	pass "$2"
}

wait_log "initial state: reader Virtual_PCD_00_00: card serial 'ESPICOHSMTR' present" \
    "nkhsm-hotplug reads the serial of the card there at start"
reset_logind_log
card_remove
wait_log "locked session 51 of $PAM_USER (bound by record" "pulling the card locks the session"
sleep 0.5
got=$(locked_ids)
if [ "$got" = "51 " ]; then
	pass "exactly the recorded session is locked"
else
	fail "locked '$got', wanted '51 '"
fi
reset_logind_log
card_insert
wait_log "reader Virtual_PCD_00_00: card serial 'ESPICOHSMTR' answered" \
    "the card put back answers"
if [ -z "$(logind_calls | grep -v '^[0-9.]* ListSessions')" ]; then
	pass "putting the card back locks and unlocks nothing"
else
	fail "putting the card back called logind: $(logind_calls | tr '\n' ' ')"
fi
finish
