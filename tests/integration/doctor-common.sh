# SPDX-License-Identifier: BSD-2-Clause
# doctor-common.sh - sourced after common.sh by the nkhsm-tool doctor tests
# (tool-doctor.sh on SoftHSM, card-doctor.sh on the card kit).
#
# doc ARGS...: nkhsm-tool doctor --json ARGS; the report in $T/doc.json, the
# exit status in $doc_rc. dcheck ID STATUS TEXT DESCRIPTION: the report has a
# check ID with STATUS (ok, warning, failure) whose message holds TEXT
# (fixed string); with a fix unless it is ok. dpath ID: the path a check
# names. doctor_root MODULE: a healthy system under $R for --root: a PAM
# stack using pam_nkhsm, pam_nkhsm.so, its helper, the udev rule and the
# unit installed where this build installs them (the paths the report
# names), all root's; $D holds the options that check it with MODULE, and
# $HELPER, $RULE and $UNIT the installed files.

doc() {
	$VG "$TOOL" doctor --json "$@" > "$T/doc.json" 2> "$T/doc.err"
	doc_rc=$?
	vg_check "nkhsm-tool doctor $*"
}

dcheck() {
	if python3 - "$T/doc.json" "$1" "$2" "$3" <<'EOF'
import json, sys
rep = json.load(open(sys.argv[1]))
want = [c for c in rep['checks'] if c['check'] == sys.argv[2] and
        sys.argv[4] in c['message']]
ok = any(c['status'] == sys.argv[3] and
         (c['status'] == 'ok') == (c['fix'] is None) for c in want)
sys.exit(0 if ok else 1)
EOF
	then
		pass "$4"
	else
		fail "$4: no $2 check '$1' saying '$3'"
		python3 -c 'import json,sys
for c in json.load(open(sys.argv[1]))["checks"]:
    print("  | %-9s %-12s %s" % (c["status"], c["check"], c["message"]))' \
		    "$T/doc.json" 2>/dev/null || sed 's/^/  | /' "$T/doc.json" "$T/doc.err"
	fi
}

# dexit CODE DESCRIPTION: the last doc's exit status.
dexit() {
	if [ "$doc_rc" -eq "$1" ]; then
		pass "$2"
	else
		fail "$2: exit $doc_rc, wanted $1"
	fi
}

dpath() {
	python3 -c 'import json,sys
for c in json.load(open(sys.argv[1]))["checks"]:
    if c["check"] == sys.argv[2] and c["path"]:
        print(c["path"]); break' "$T/doc.json" "$1"
}

doctor_root() {
	R="$T/root"
	mkdir -p "$R/etc/pam.d"
	printf 'auth [success=done default=ignore] pam_nkhsm.so wait=5\nsession optional pam_nkhsm.so\n' \
	    > "$R/etc/pam.d/sshd"
	D="--root $R --config $T/nkhsm.conf --module $1"
	doc $D
	for id in pam-module helper udev-rule unit; do
		p=$(dpath $id)
		[ -n "$p" ] || { fail "doctor names no path for $id"; finish; }
		mkdir -p "$(dirname "$p")"
		case $id in
		pam-module) install -m 644 "$PAM_MOD" "$p" ;;
		helper) install -m 755 "$PAM_HELPER" "$p"; HELPER=$p ;;
		udev-rule) install -m 644 "$top_srcdir/udev/70-nkhsm.rules" "$p"; RULE=$p ;;
		unit) install -m 644 "$top_srcdir/udev/nkhsm-hotplug@.service.in" "$p"; UNIT=$p ;;
		esac
	done
	# The directories made here must be as safe as root's files need.
	find "$R" -type d -exec chmod 755 {} +
}
