#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench/hotplug.sh - nkhsm-hotplug --monitor timings (make bench-hotplug).
#
# 1. Removal latency: from the "remove" uevent sent by the umockdev testbed
#    to the LockSession call seen by the mock logind, 20 times; the median
#    is the figure (target: under 100 ms). Both clocks are the same
#    machine's wall clock; the mock logs in milliseconds.
# 2. Idle cost of --monitor: CPU ticks and wakeups (context switches) over
#    5 s with nothing happening (target: 0 ticks, no polling), and memory.
#    For comparison, pam_pkcs11's pkcs11_eventmgr, which polls the PKCS#11
#    module (SoftHSM here) every second, is measured the same way.
. "${top_srcdir:-.}/tests/integration/hotplug-common.sh"
need_testbed
start_logind
: "${SOFTHSM_MODULE:=/usr/lib/softhsm/libsofthsm2.so}"
ROUNDS=20
IDLE=5

add_session 10 1000 alice
write_record ra alice 10 DENK0100001
write_conf "rundir = $T/run" "serial_match = exact" "settle = 0ms"

# idle.sh PID NAME SECONDS: sample a process while nothing happens.
cat > "$T/idle.sh" <<'EOF'
#!/bin/sh
pid=$1 name=$2 secs=$3
tick=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
ctx() { awk '/^(voluntary|nonvoluntary)_ctxt_switches/ { n += $2 } END { print n }' "/proc/$pid/status"; }
c0=$(cpu) x0=$(ctx)
sleep "$secs"
c1=$(cpu) x1=$(ctx)
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
echo "idle $name: $((c1 - c0)) CPU ticks (1/$tick s) and $((x1 - x0)) wakeups in ${secs}s; RSS $rss kB, peak $hwm kB"
EOF
chmod 755 "$T/idle.sh"

# The monitor's pid is known once it runs: a wrapper writes it first.
cat > "$T/mon.sh" <<EOF
#!/bin/sh
echo \$\$ > "$T/pid"
exec "$HOTPLUG" --config "$T/hotplug.conf" --stderr --monitor
EOF
printf '#!/bin/sh\nexec /bin/sh "%s/idle.sh" "$(cat "%s/pid")" nkhsm-hotplug %s\n' \
    "$T" "$T" "$IDLE" > "$T/idle-mon.sh"
chmod 755 "$T/mon.sh" "$T/idle-mon.sh"
{
	echo "start"
	echo "run $T/idle-mon.sh"
	i=1
	while [ $i -le $ROUNDS ]; do
		echo "dev usb1/1-1 usb usb_device 20a0/4230/101 DENK0100001"
		echo "sleep 0.3"
		echo "stamp remove-$i"
		echo "unplug usb1/1-1"
		echo "wait-log $i 'locked session 10'"
		echo "sleep 0.3"
		i=$((i + 1))
	done
	echo "stop"
} > "$T/script"

umockdev-wrapper "$PY" "$TESTBED" "$T/script" "$T/mon.log" -- "$T/mon.sh" > "$T/tb.out" 2>&1 ||
    { echo "testbed failed"; cat "$T/tb.out"; tail "$T/mon.log"; exit 1; }

i=1
: > "$T/lat"
while [ $i -le $ROUNDS ]; do
	s=$(sed -n "s/^stamp remove-$i //p" "$T/tb.out")
	awk -v s="$s" '/ LockSession "10"/ && $1 + 0.0005 >= s { printf "%.1f\n", ($1 - s) * 1000; exit }' \
	    "$T/logind.log" >> "$T/lat"
	i=$((i + 1))
done
n=$(wc -l < "$T/lat")
sort -n "$T/lat" > "$T/lat.sorted"
median=$(awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }' "$T/lat.sorted")
min=$(head -1 "$T/lat.sorted")
max=$(tail -1 "$T/lat.sorted")
echo "removal -> LockSession over $n rounds: median $median ms (min $min, max $max; target < 100 ms)"
grep '^idle ' "$T/tb.out"

# The peer: pkcs11_eventmgr polling SoftHSM.
if command -v pkcs11_eventmgr >/dev/null 2>&1 && [ -f "$SOFTHSM_MODULE" ]; then
	mkdir -p "$T/tokens"
	printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" > "$T/softhsm2.conf"
	SOFTHSM2_CONF="$T/softhsm2.conf"
	export SOFTHSM2_CONF
	softhsm2-util --init-token --free --label bench --so-pin 0123456789abcdef --pin 123456 >/dev/null 2>&1
	cat > "$T/eventmgr.conf" <<-EOF
	pkcs11_eventmgr {
		daemon = false;
		debug = false;
		polling_time = 1;
		expire_time = 0;
		pkcs11_module = $SOFTHSM_MODULE;
		event card_insert { on_error = ignore; action = "/bin/true"; }
		event card_remove { on_error = ignore; action = "/bin/true"; }
		event expire_time { on_error = ignore; action = "/bin/true"; }
	}
	EOF
	pkcs11_eventmgr nodaemon nodebug config_file="$T/eventmgr.conf" \
	    pkcs11_module="$SOFTHSM_MODULE" >/dev/null 2>&1 &
	peer=$!
	CLEANUP="kill $peer 2>/dev/null; wait $peer 2>/dev/null; $CLEANUP"
	sleep 1
	if kill -0 "$peer" 2>/dev/null; then
		sh "$T/idle.sh" "$peer" "pam_pkcs11 pkcs11_eventmgr (polling_time=1)" "$IDLE"
	else
		echo "idle pkcs11_eventmgr: did not start"
	fi
fi
