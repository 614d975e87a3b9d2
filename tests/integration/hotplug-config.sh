#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# hotplug-config.sh - nkhsm-hotplug's strict configuration and command line.
# Every error names the file and line (FILE:LINE: reason) and exits non-zero:
# 3 for an invalid configuration (unknown or repeated key, bad value, a
# missing or non-executable program), 4 for unsafe ownership or modes of the
# file, its directories, a program or the run directory (whose records the
# run time would not trust); 2 for usage errors. serial_match prefix is
# refused. The shipped example passes --check-config.
. "${top_srcdir:-.}/tests/integration/hotplug-common.sh"
install_recorder
C="$T/hotplug.conf"

# bad EXIT MESSAGE DESCRIPTION LINE...: a config that must fail.
bad() {
	code=$1 msg=$2 desc=$3
	shift 3
	write_conf "$@"
	expect_exit "$code" "$desc" "$HOTPLUG" --check-config --config "$C"
	expect_grep "$msg" "$T/err" "$desc: message"
}

cp "$top_srcdir/udev/hotplug.conf.example" "$T/example.conf"
chmod 644 "$T/example.conf"
expect_exit 0 "the shipped example passes --check-config" \
    "$HOTPLUG" --check-config --config "$T/example.conf"
expect_grep "on_remove lock-token, serial_match absent" "$T/out" "the example states the defaults"

write_conf "on_remove = lock-owner" "serial_match = exact" "escalate = terminate" \
    "grace = 2s" "settle = 250ms" "lock_interval = 100ms" "timeout = 5s" \
    "rate_limit = 10/30s" "max_children = 2" "run_as = nobody" "rundir = $T/run" \
    "insert_exec = $REC \"two words\" plain" "remove_exec = $REC" \
    "user_exec = $REC" "owner = DENK0100001 root" "# a comment" ""
expect_exit 0 "a full valid configuration passes" "$HOTPLUG" --check-config --config "$C"
expect_grep "1 insert_exec, 1 remove_exec, 1 user_exec, 1 owners; actions run as nobody" \
    "$T/out" "--check-config summarizes it"

bad 3 "$C:2: unknown key 'frobnicate'" "unknown key" "settle = 1s" "frobnicate = yes"
bad 3 "$C:2: duplicate key 'settle' (first set on line 1)" "repeated key" \
    "settle = 1s" "settle = 2s"
bad 3 "$C:1: on_remove must be lock-token, lock-owner or none" "bad enum value" \
    "on_remove = lock-all"
bad 3 "$C:1: settle must be a duration with a unit (ms or s)" "duration without unit" \
    "settle = 500"
bad 3 "$C:1: lock_interval must be a duration with a unit (ms or s) from 0ms to 1000ms" \
    "lock_interval over a second" "lock_interval = 2s"
bad 3 "$C:1: rate_limit must be COUNT/DURATION" "rate limit of zero" "rate_limit = 0/60s"
bad 3 "$C:1: missing '=' after 'settle'" "missing '='" "settle 1s"
bad 3 "$C:1: insert_exec: unterminated quoted word" "unterminated quote" \
    "insert_exec = $REC \"open"
bad 3 "$C:1: insert_exec: the program must be an absolute path" "relative program" \
    "insert_exec = record.sh"
bad 3 "$C:1: owner: a serial has at most 64 of" "hostile owner serial" \
    "owner = a;b alice"
bad 3 "$C:2: serial_match prefix is no longer accepted: a device that claims a longer or shorter serial" \
    "serial_match prefix" "settle = 1s" "serial_match = prefix"
bad 3 "$C:1: run_as: no such user 'nkh-no-such-user'" "unknown run_as user" \
    "run_as = nkh-no-such-user"
bad 3 "$C:2: $T/missing/script: No such file or directory" "a missing script" \
    "settle = 1s" "remove_exec = $T/missing/script"
cp "$REC" "$T/bin/noexec"
chmod 644 "$T/bin/noexec"
bad 3 "$C:1: $T/bin/noexec: not executable" "a script that is not executable" \
    "insert_exec = $T/bin/noexec"
cp "$REC" "$T/bin/gw"
chmod 775 "$T/bin/gw"
bad 4 "$C:1: $T/bin/gw: is group-writable" "a group-writable script" \
    "insert_exec = $T/bin/gw"
mkdir -m 777 "$T/open"
cp "$REC" "$T/open/x"
chmod 755 "$T/open/x"
bad 4 "$C:1: $T/open: directory is writable by group or others" \
    "a script in a world-writable directory" "insert_exec = $T/open/x"
cp "$REC" "$T/bin/theirs"
chown nobody "$T/bin/theirs"
bad 4 "$C:1: $T/bin/theirs: owned by uid" "a script not owned by root" \
    "user_exec = $T/bin/theirs"
bad 3 "$C:1: /nonexistent/dbus-send: No such file or directory" "a missing dbus-send" \
    "dbus_send = /nonexistent/dbus-send"
printf 'settle = %02000d\n' 1 > "$C"
expect_exit 3 "an overlong line: exit 3" "$HOTPLUG" --check-config --config "$C"
expect_grep "$C:1: line too long" "$T/err" "an overlong line: message"

# Unsafe permissions on the file itself.
write_conf "settle = 1s"
chmod 664 "$C"
expect_exit 4 "a group-writable config: exit 4" "$HOTPLUG" --check-config --config "$C"
expect_grep "$C: is group-writable" "$T/err" "a group-writable config: message"
chmod 602 "$C"
expect_exit 4 "a world-writable config: exit 4" "$HOTPLUG" --check-config --config "$C"
expect_grep "$C: is world-writable" "$T/err" "a world-writable config: message"
chmod 600 "$C"
chown nobody "$C"
expect_exit 4 "a config not owned by root: exit 4" "$HOTPLUG" --check-config --config "$C"
expect_grep "$C: owned by uid" "$T/err" "a config not owned by root: message"
chown root "$C"
ln -s "$C" "$T/link.conf"
expect_exit 4 "a symlinked config: exit 4" "$HOTPLUG" --check-config --config "$T/link.conf"
expect_grep "is a symbolic link (refused)" "$T/err" "a symlinked config: message"
expect_exit 3 "a missing config: exit 3" "$HOTPLUG" --check-config --config "$T/none.conf"
expect_grep "$T/none.conf: No such file or directory" "$T/err" "a missing config: message"
expect_exit 3 "a relative config path: exit 3" "$HOTPLUG" --check-config --config hotplug.conf

# The run directory: what the run time would not trust is an error now.
mkdir -m 755 "$T/rd"
write_conf "settle = 1s" "rundir = $T/rd"
expect_exit 0 "a root-owned rundir writable only by root passes" \
    "$HOTPLUG" --check-config --config "$C"
write_conf "settle = 1s" "rundir = $T/rd/not-yet"
expect_exit 0 "a rundir that does not exist yet passes" "$HOTPLUG" --check-config --config "$C"
chmod 777 "$T/rd"
bad 4 "$C:2: rundir: $T/rd: directory is writable by group or others; session records there would not be trusted" \
    "a world-writable rundir" "settle = 1s" "rundir = $T/rd"
chmod 1777 "$T/rd"
bad 4 "$C:1: rundir: $T/rd: directory is writable by group or others" \
    "a sticky world-writable rundir" "rundir = $T/rd"
chmod 775 "$T/rd"
bad 4 "$C:1: rundir: $T/rd: directory is writable by group or others" \
    "a group-writable rundir" "rundir = $T/rd"
chmod 755 "$T/rd"
chown nobody "$T/rd"
bad 4 "$C:1: rundir: $T/rd: directory owned by uid" "a rundir not owned by root" "rundir = $T/rd"
chown root "$T/rd"
ln -s "$T/rd" "$T/rdlink"
bad 4 "$C:1: rundir: $T/rdlink: is a symbolic link (refused)" "a rundir that is a symlink" \
    "rundir = $T/rdlink"
mkdir -m 755 "$T/open/run"
bad 4 "$C:1: rundir: $T/open: directory is writable by group or others" \
    "a rundir below a world-writable directory" "rundir = $T/open/run"
: > "$T/rdfile"
bad 3 "$C:1: rundir: $T/rdfile: not a directory" "a rundir that is a file" "rundir = $T/rdfile"

# The command line.
write_conf "settle = 1s"
expect_exit 2 "no mode is a usage error" "$HOTPLUG" --config "$C"
expect_exit 2 "two modes are a usage error" "$HOTPLUG" --config "$C" --monitor add
expect_exit 2 "an unknown verb is a usage error" "$HOTPLUG" --config "$C" insert
expect_exit 2 "an unknown option is a usage error" "$HOTPLUG" --frob
expect_exit 2 "a syspath outside /sys/devices is a usage error" \
    "$HOTPLUG" --config "$C" add "/sys/devices/../../etc/passwd"
expect_exit 0 "--help" "$HOTPLUG" --help
expect_exit 0 "--version" "$HOTPLUG" --version
expect_grep "nkhsm-hotplug " "$T/out" "--version prints the version"

finish
