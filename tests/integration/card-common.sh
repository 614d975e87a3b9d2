# SPDX-License-Identifier: BSD-2-Clause
# card-common.sh - sourced after common.sh by the tests that run on the real
# card stack: an emulated SmartCard-HSM (../shared/schsm-emu) behind its own
# pcscd, driven through OpenSC's opensc-pkcs11.so or nkhsm's PC/SC path.
#
# card_start starts a private card stack in $T/card (a blank card, then
# initialized with sc-hsm-tool) and stops it when the test exits. The kit
# is found at $SCHSM_EMU, else beside the source tree
# ($top_srcdir/../shared/schsm-emu/schsm-emu).
#
# When the kit cannot start: with CI=true the test fails (exit 99), since
# CI must prove the card path; elsewhere it is skipped (exit 77) and says why.
#
# Card round trips are counted from pcscd's log (pcscd runs with -a -d, one
# "APDU:" line per command): apdu_mark, then apdus_since.

: "${SCHSM_EMU:=$top_srcdir/../shared/schsm-emu/schsm-emu}"
: "${OPENSC_MODULE:=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}"
CARD_SO_PIN=3537363231383830
CARD_PIN=648219
CARD_DIR=

# card_unavailable REASON: fail under CI, skip elsewhere.
card_unavailable() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL - the card kit cannot start: $1"
		exit 99
	fi
	echo "skip: the card kit cannot start: $1"
	exit 77
}

# card_start: a fresh, initialized card on a private pcscd. Exports
# PCSCLITE_CSOCK_NAME (every PC/SC client in the test reaches this card).
card_start() {
	[ -x "$SCHSM_EMU" ] || card_unavailable "no kit at $SCHSM_EMU (set SCHSM_EMU)"
	[ "$(id -u)" -eq 0 ] || card_unavailable "it needs root (a network namespace)"
	for _c in pcscd opensc-tool sc-hsm-tool pkcs11-tool cmake unshare nsenter; do
		command -v "$_c" >/dev/null 2>&1 || [ -x "/usr/sbin/$_c" ] ||
		    card_unavailable "$_c is missing"
	done
	[ -f /usr/lib/pcsc/drivers/serial/libifdvpcd.so ] ||
	    card_unavailable "vsmartcard-vpcd is missing"
	[ -f "$OPENSC_MODULE" ] || card_unavailable "$OPENSC_MODULE is missing"
	CARD_DIR="$T/card"
	mkdir -p "$CARD_DIR"
	# One start at a time on this machine (the kit's rule), and the
	# emulator's busy loop at the lowest priority so that it does not
	# starve the programs under test. The kit's daemons must not inherit
	# the lock (9>&-): they would hold it, and block every other test's
	# start, for as long as this card runs.
	if ! (
		flock -w 300 9 || { echo "the start lock stayed taken for 300 s"; exit 1; }
		SCHSM_EMU_PCSCD_ARGS="-a -d" "$SCHSM_EMU" start "$CARD_DIR" \
		    >"$T/card-start.out" 2>&1 9>&- ||
		    { cat "$T/card-start.out"; exit 1; }
	) 9>"${TMPDIR:-/tmp}/nkhsm-schsm-emu.lock" >"$T/card-lock.out" 2>&1; then
		CLEANUP="\"$SCHSM_EMU\" stop \"$CARD_DIR\" >/dev/null 2>&1; $CLEANUP"
		sed 's/^/  | /' "$T/card-lock.out" | tail -5
		card_unavailable "schsm-emu start failed"
	fi
	CLEANUP="\"$SCHSM_EMU\" stop \"$CARD_DIR\" >/dev/null 2>&1; $CLEANUP"
	renice -n 19 -p "$(cat "$CARD_DIR/card.pid")" >/dev/null 2>&1 || true
	eval "$("$SCHSM_EMU" env "$CARD_DIR")"
	export PCSCLITE_CSOCK_NAME
	# OpenSC with its defaults and no file cache, whatever this machine's
	# /etc/opensc.conf says, so counts and behaviour are the same everywhere.
	printf 'app default {\n\tframework pkcs15 {\n\t\tuse_file_caching = no;\n\t}\n}\n' \
	    >"$T/opensc.conf"
	export OPENSC_CONF="$T/opensc.conf"
	# nk, sc and the shared checks now work on the card.
	TEST_MODULE=$OPENSC_MODULE
	TEST_PIN=env:NK_CARD_PIN
	if ! sc-hsm-tool --initialize --so-pin "$CARD_SO_PIN" --pin "$CARD_PIN" \
	    >"$T/card-init.out" 2>&1; then
		sed 's/^/  | /' "$T/card-init.out" | tail -5
		card_unavailable "sc-hsm-tool --initialize failed"
	fi
}

# card_remove, card_insert, card_freeze, card_thaw: the kit's controls.
card_remove() { "$SCHSM_EMU" remove "$CARD_DIR" >/dev/null 2>&1; }
card_insert() {
	"$SCHSM_EMU" insert "$CARD_DIR" >/dev/null 2>&1 &&
	    renice -n 19 -p "$(cat "$CARD_DIR/card.pid")" >/dev/null 2>&1
}
card_freeze() { "$SCHSM_EMU" freeze "$CARD_DIR"; }
card_thaw() { "$SCHSM_EMU" thaw "$CARD_DIR"; }

# apdus: commands sent to the card so far; apdu_mark / apdus_since count
# the commands of one piece of work.
apdus() { grep -c 'APDU:' "$CARD_DIR/pcscd.log" 2>/dev/null || echo 0; }
apdu_mark() { _apdu_mark=$(apdus); }
apdus_since() { echo $(( $(apdus) - _apdu_mark )); }
# apdu_log_since: the commands themselves, one per line (hex).
apdu_log_since() {
	grep 'APDU:' "$CARD_DIR/pcscd.log" | tail -n +"$((_apdu_mark + 1))" |
	    sed 's/^.*APDU: //'
}

# nkc ARGS...: nkhsm-tool on the card through OpenSC, with the test's
# empty configuration (after card_start, the same as nk). NK_CARD_PIN holds
# the card's user PIN.
export NK_CARD_PIN="$CARD_PIN"
nkc() {
	$VG "$TOOL" --config "$T/nkhsm.conf" --module "$OPENSC_MODULE" "$@"
}

# card_fault_after ACTION PATTERN N LIMIT CMD...: run CMD in the background;
# once N more commands matching PATTERN (an extended regex over the APDU's
# hex, e.g. '80 68' for a signature) have reached the card, do ACTION to it
# (remove or freeze), and give CMD LIMIT seconds to end. A CMD still
# running then has hung: the card is put back (insert, thaw) so that it
# ends. Then $fault_hit is 1 (0 if CMD ended before the fault), $fault_rc
# is CMD's exit status, $fault_secs the seconds it ran after the fault
# (more than LIMIT if it hung), and $T/fault.out holds its output.
card_fault_after() {
	_act=$1 _pat=$2 _n=$3 _limit=$4
	shift 4
	_off=$(($(wc -c < "$CARD_DIR/pcscd.log") + 1))
	( "$@" >"$T/fault.out" 2>&1; echo $? >"$T/fault.rc" ) &
	_pid=$!
	fault_hit=0
	_t0=$(date +%s)
	while kill -0 "$_pid" 2>/dev/null; do
		if [ "$(tail -c +"$_off" "$CARD_DIR/pcscd.log" |
		    grep -cE "APDU: $_pat")" -ge "$_n" ]; then
			_t0=$(date +%s)
			"card_$_act"
			fault_hit=1
			break
		fi
		sleep 0.02
	done
	while kill -0 "$_pid" 2>/dev/null &&
	    [ $(($(date +%s) - _t0)) -le "$_limit" ]; do
		sleep 0.1
	done
	fault_secs=$(($(date +%s) - _t0))
	if kill -0 "$_pid" 2>/dev/null; then
		case $_act in
		freeze) card_thaw ;;
		remove) card_insert ;;
		esac
	fi
	wait "$_pid"
	fault_rc=$(cat "$T/fault.rc")
}

# card_wait_reader READER yes|no: until the reader holds a card (yes) or
# none (no), at most 10 s (a second card for vpcd's other reader comes and
# goes on its own time; the kit's insert only waits for a card somewhere).
card_wait_reader() {
	_i=0
	while :; do
		if opensc-tool -l 2>/dev/null | grep -q "Yes.*$1\$"; then
			[ "$2" = yes ] && return 0
		else
			[ "$2" = no ] && return 0
		fi
		_i=$((_i + 1))
		[ $_i -lt 100 ] || return 1
		sleep 0.1
	done
}
