#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# record-action.sh DIR TAG [ARG...] - a test action for nkhsm-hotplug: writes
# what it was given (argv, uid, environment, open descriptors) to DIR/TAG.PID.
# TAG "hang" also starts a background sleeper and waits, so the test can see
# the timeout kill the whole process group.
dir=$1
tag=$2
f="$dir/$tag.$$"
# First, before the shell opens anything itself (pipes, saved descriptors);
# bash redirects an external command in the child, so this is the real table.
ls -l /proc/$$/fd/ > "$f.fds"
{
	echo "uid=$(id -u)"
	echo "pgid=$(ps -o pgid= -p $$ | tr -d ' ')"
	echo "sid=$(ps -o sid= -p $$ | tr -d ' ')"
	i=0
	for a in "$@"; do
		echo "arg$i=$a"
		i=$((i + 1))
	done
	sed -n 's/.* \([0-9][0-9]*\) -> \(.*\)$/fd \1 \2/p' "$f.fds"
	env | LC_ALL=C sort | sed 's/^/env:/'
} > "$f.tmp"
rm -f "$f.fds"
mv "$f.tmp" "$f"
if [ "$tag" = hang ]; then
	sleep 60 &
	echo "bg=$!" >> "$f"
	wait
fi
exit 0
