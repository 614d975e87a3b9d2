#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# hotplug-storm.sh - 1000 add/remove pairs of one token in a burst, as fast
# as the umockdev testbed can send them, to nkhsm-hotplug --monitor with a
# bound session on a mock logind. Proves: no crash and no fork bomb; the
# action rate limit holds and is logged; lock rounds are coalesced (far
# fewer than 1000) yet one follows the last removal; the final state is
# "absent" with nothing pending; afterwards a removal still locks at once
# (locks are never rate limited) and an insertion over the limit is logged.
. "${top_srcdir:-.}/tests/integration/hotplug-common.sh"
need_testbed
start_logind
install_recorder

add_session 10 1000 alice
write_record ra alice 10 DENK0100001
write_conf "rundir = $T/run" "serial_match = exact" "settle = 50ms" \
    "rate_limit = 3/60s" \
    "insert_exec = $REC $T/actions admin-add" \
    "remove_exec = $REC $T/actions admin-remove"

cat > "$T/script" <<EOF
start
dev usb1/1-1 usb usb_device 20a0/4230/101 DENK0100001
wait-log 1 'add: started'
stamp burst-start
burst usb1/1-1 1000 'event remove /sys/devices/usb1/1-1'
stamp burst-end
sleep 1.5
signal USR1
wait-log 1 'lock rounds'
uevent usb1/1-1 add
sleep 0.3
stamp unplug
unplug usb1/1-1
wait-log 1 'not started: rate limit'
sleep 1
signal USR1
wait-log 2 'lock rounds'
stop
EOF
start=$(date +%s)
testbed "$T/script" "$T/mon.log" --config "$T/hotplug.conf" --stderr \
    --verbose --monitor > "$T/tb.out" 2>&1
rc=$?
if [ $rc -eq 0 ]; then
	pass "the monitor survived 2000 events and stopped cleanly"
else
	fail "storm: testbed exit $rc"
	cat "$T/tb.out"
	tail -20 "$T/mon.log"
fi
sleep 0.2

n=$(ls "$T/actions" | grep -c '^admin-' || true)
if [ "$n" -ge 1 ] && [ "$n" -le 3 ]; then
	pass "the rate limit held: $n action runs for 1001 insertions and removals"
else
	fail "rate limit: $n action runs, wanted 1 to 3"
fi
expect_grep "not started: rate limit of 3 per 60000ms reached" "$T/mon.log" \
    "hitting the rate limit is logged"

rounds=$(grep -c 'remove /sys/devices/usb1/1-1 serial' "$T/mon.log")
if [ "$rounds" -ge 1 ] && [ "$rounds" -lt 500 ]; then
	pass "removals coalesced into $rounds lock rounds"
else
	fail "lock rounds: $rounds"
fi
locks=$(grep -c ' LockSession "10"' "$T/logind.log")
if [ "$locks" -eq "$rounds" ]; then
	pass "every lock round requested the bound session's lock ($locks)"
else
	fail "$locks LockSession calls for $rounds lock rounds"
fi

# A lock completed after the burst's last removal was seen (workers append
# to the same log, so line order is time order).
sed '/state: /q' "$T/mon.log" > "$T/burst.log"
last_event=$(grep -n 'event remove /sys/devices/usb1/1-1' "$T/burst.log" | tail -1 | cut -d: -f1)
last_lock=$(grep -n 'locked session 10 of alice' "$T/burst.log" | tail -1 | cut -d: -f1)
if [ -n "$last_event" ] && [ -n "$last_lock" ] && [ "$last_lock" -gt "$last_event" ]; then
	pass "a lock round followed the burst's last removal"
else
	fail "no lock after the burst's last removal (event line $last_event, lock line $last_lock)"
fi
state=$(grep 'state: /sys/devices/usb1/1-1' "$T/mon.log" | head -1)
case "$state" in
*"serial 'DENK0100001' absent") pass "the final state after the storm is right: absent, nothing pending" ;;
*) fail "state after the storm: '$state'" ;;
esac

# After the storm: the removal locks within a second, limit or not.
unplug=$(sed -n 's/^stamp unplug //p' "$T/tb.out")
after=$(awk -v u="$unplug" '/ LockSession "10"/ && $1 >= u { print $1; exit }' "$T/logind.log")
if [ -n "$after" ] && awk -v a="$after" -v u="$unplug" 'BEGIN { exit !(a - u < 1.0) }'; then
	pass "after the storm a removal still locks within a second"
else
	fail "no lock within a second of the final unplug ($unplug -> '$after')"
fi
if ps -eo args | grep -v grep | grep -q "$T/hotplug.conf"; then
	fail "a monitor process was left behind"
else
	pass "no monitor process left behind"
fi

finish
