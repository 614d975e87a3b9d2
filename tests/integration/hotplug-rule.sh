#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# hotplug-rule.sh - udev/70-nkhsm.rules and nkhsm-hotplug@.service, checked
# by their files (no udevd or systemd runs here). The rule is parsed with
# udev's grammar and evaluated against device properties: it must act for a
# whole 20a0:4230 USB device on add and remove, and for nothing else, and
# match on properties only (sysfs attributes are gone on remove). The unit
# must pass systemd-analyze verify, bind to the device, run add at start and
# remove at stop, and keep its sandbox.
set -u
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
RULES="$top_srcdir/udev/70-nkhsm.rules"
UNIT="$top_builddir/udev/nkhsm-hotplug@.service"
CHECK="$top_srcdir/tests/hotplug/rulecheck.py"

PY=
for p in python3 /usr/bin/python3; do
	command -v "$p" >/dev/null 2>&1 && { PY=$p; break; }
done
[ -n "$PY" ] || { echo "skip: python3 missing"; exit 77; }
[ -f "$UNIT" ] || { echo "$UNIT not built"; exit 99; }

T=$(mktemp -d "${TMPDIR:-/tmp}/nkhsm-rule.XXXXXX")
trap 'rm -rf "$T"' EXIT
npass=0
nfail=0
pass() { npass=$((npass + 1)); echo "ok $npass - $*"; }
fail() { nfail=$((nfail + 1)); echo "FAIL - $*"; }

# ev DESCRIPTION WANT_MATCH ACTION SUBSYSTEM DEVTYPE PRODUCT
ev() {
	desc=$1 want=$2
	"$PY" "$CHECK" "$RULES" ACTION="$3" SUBSYSTEM="$4" DEVTYPE="$5" PRODUCT="$6" \
	    KERNEL=1-2 DEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-2 > "$T/out"
	rc=$?
	got=$(sed -n 's/^matched: //p' "$T/out")
	if [ $rc -eq 0 ] && [ "$got" = "$want" ]; then
		pass "$desc"
	else
		fail "$desc: matched '$got' (exit $rc), wanted '$want'"
		sed 's/^/  | /' "$T/out"
	fi
}

"$PY" "$CHECK" "$RULES" > "$T/keys"
if [ $? -eq 0 ]; then
	pass "the rule file parses with udev's grammar (no unknown key or operator)"
else
	fail "the rule file does not parse"
	cat "$T/keys"
fi
keys=$(sed -n 's/^keys: //p' "$T/keys")
if [ "$keys" = "ACTION ENV{DEVTYPE} ENV{PRODUCT} SUBSYSTEM" ]; then
	pass "it matches on ACTION, SUBSYSTEM and properties only (no ATTR)"
else
	fail "unexpected match keys: $keys"
fi
if grep -q '^[^#]*\(RUN\|PROGRAM\|IMPORT\)' "$RULES"; then
	fail "the rule runs programs itself"
else
	pass "the rule runs nothing itself (the work goes to the unit)"
fi

ev "add of a Nitrokey HSM matches" yes add usb usb_device 20a0/4230/101
expect_line() {
	if grep -qxF -- "$1" "$T/out"; then pass "$2"; else fail "$2"; sed 's/^/  | /' "$T/out"; fi
}
expect_line "tag: systemd" "add: tagged for systemd"
expect_line "env: SYSTEMD_WANTS=nkhsm-hotplug@.service" \
    "add: pulls in nkhsm-hotplug@<sysfs path>.service"
ev "remove of a Nitrokey HSM matches" yes remove usb usb_device 20a0/4230/101
expect_line "tag: systemd" "remove: still tagged, so systemd sees it go"
if grep -q '^env: SYSTEMD_WANTS' "$T/out"; then
	fail "remove pulls in a unit"
else
	pass "remove starts nothing (the bound unit stops instead)"
fi
ev "upper-case hex in PRODUCT matches only as the kernel writes it" no add usb usb_device 20A0/4230/101
ev "change events are ignored" no change usb usb_device 20a0/4230/101
ev "bind events are ignored" no bind usb usb_device 20a0/4230/101
ev "another Nitrokey model (Start, 20a0:4211) is ignored" no add usb usb_device 20a0/4211/100
ev "another vendor's 4230 is ignored" no add usb usb_device 1050/4230/100
ev "a longer product id (42301) is ignored" no add usb usb_device 20a0/42301/100
ev "a shorter product id (423) is ignored" no add usb usb_device 20a0/423/100
ev "a vendor id with a prefix (120a0) is ignored" no add usb usb_device 120a0/4230/100
ev "a USB interface of the token is ignored" no add usb usb_interface 20a0/4230/101
ev "a non-USB device with the same PRODUCT is ignored" no add hidraw "" 20a0/4230/101
ev "a device without PRODUCT is ignored" no add usb usb_device ""

# The unit.
grep_unit() {
	if grep -qx -- "$1" "$UNIT"; then pass "unit: $1"; else fail "unit lacks '$1'"; fi
}
sbin=$(sed -n 's|^ExecStart=\(.*\)/nkhsm-hotplug add %I$|\1|p' "$UNIT")
if [ -n "$sbin" ]; then
	pass "unit: ExecStart runs nkhsm-hotplug add %I from $sbin"
else
	fail "unit: no ExecStart=.../nkhsm-hotplug add %I"
fi
grep_unit "ExecStopPost=$sbin/nkhsm-hotplug remove %I"
grep_unit "BindsTo=%i.device"
grep_unit "StartLimitIntervalSec=0"
for k in NoNewPrivileges=yes ProtectSystem=strict PrivateDevices=yes \
    PrivateTmp=yes ProtectKernelTunables=yes RestrictSUIDSGID=yes \
    MemoryDenyWriteExecute=yes "RestrictAddressFamilies=AF_UNIX AF_NETLINK"; do
	grep_unit "$k"
done
if command -v systemd-analyze >/dev/null 2>&1; then
	# Verify an instance against the freshly built program.
	mkdir "$T/units"
	sed "s|^\(Exec[A-Za-z]*=\)$sbin/nkhsm-hotplug|\1$(cd "$top_builddir" && pwd)/udev/nkhsm-hotplug|" \
	    "$UNIT" > "$T/units/nkhsm-hotplug@.service"
	# (systemd-analyze verify mistakes a ":" in a unit path for alias syntax)
	inst="$T/units/nkhsm-hotplug@sys-devices-usb1-1\\x2d2.service"
	systemd-analyze verify --man=no "$inst" > "$T/verify" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && [ ! -s "$T/verify" ]; then
		pass "systemd-analyze verify accepts an instance of the unit"
	else
		fail "systemd-analyze verify: exit $rc"
		sed 's/^/  | /' "$T/verify"
	fi
	level=$(systemd-analyze security --offline=yes "$T/units/nkhsm-hotplug@.service" 2>/dev/null |
	    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	if [ -n "$level" ] && awk -v l="$level" 'BEGIN { exit !(l <= 3.0) }'; then
		pass "systemd-analyze security: exposure $level (<= 3.0)"
	elif [ -z "$level" ]; then
		echo "# systemd-analyze security --offline unavailable"
	else
		fail "systemd-analyze security: exposure $level, wanted <= 3.0"
	fi
else
	echo "# systemd-analyze missing: unit not verified by systemd"
fi

echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
