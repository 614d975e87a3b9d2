#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# sshca-krl.sh - KRLs written by sc_krl_encode (through tests/unit/krlgen)
# checked by the real peer: ssh-keygen -Q must report exactly the revoked
# certificates and keys as REVOKED, ssh-keygen -Q -l must list the KRL, and
# the listing must equal that of ssh-keygen -k's own KRL for the same
# revocations. A software CA made by ssh-keygen signs the certificates.
. "${top_srcdir:-.}/tests/integration/common.sh"

KRLGEN="$top_builddir/tests/unit/krlgen"
[ -x "$KRLGEN" ] || { echo "krlgen not built"; exit 99; }
command -v ssh-keygen >/dev/null 2>&1 || { echo "skip: ssh-keygen missing"; exit 77; }

BIG=9223372036854775813		# 2^63 + 5
MAX=18446744073709551615	# 2^64 - 1

ssh-keygen -q -t ecdsa -b 256 -N '' -C ca -f "$T/ca" || exit 99
ssh-keygen -q -t ecdsa -b 256 -N '' -C other-ca -f "$T/other" || exit 99

# issue NAME KEYID SERIAL [CA]: a user key NAME and its certificate.
issue() {
	[ -f "$T/$1" ] || ssh-keygen -q -t ed25519 -N '' -C "$1" -f "$T/$1" || exit 99
	ssh-keygen -q -s "$T/${4:-ca}" -I "$2" -n "$2" -z "$3" -V +1h \
	    "$T/$1.pub" 2>/dev/null || exit 99
}
issue u1 user1 1
issue u2 user2 2
issue u3 user3 1000
issue u4 user4 $BIG
issue u5 user5 $MAX
issue u6 user6 7
issue u7 user7 8
issue o2 user2 2 other		# same serial and key id, another CA
issue o4 user4 4 other

# check KRL DESCRIPTION FILE:want...: ssh-keygen -Q on each FILE must say
# "ok" or "REVOKED" as wanted; a KRL it cannot load fails the check.
check() {
	krl=$1 desc=$2
	shift 2
	bad=
	for fw in "$@"; do
		f=${fw%%:*} want=${fw#*:}
		out=$(ssh-keygen -Q -f "$T/$krl" "$T/$f" 2>&1)
		rc=$?
		case "$want:$rc:$out" in
		ok:0:*": ok") ;;
		REVOKED:1:*": REVOKED") ;;
		*) bad="$bad $f(wanted $want, got rc $rc: $out)" ;;
		esac
	done
	if [ -z "$bad" ]; then pass "$desc"; else fail "$desc:$bad"; fi
}

ALL_OK="u1-cert.pub:ok u2-cert.pub:ok u3-cert.pub:ok u4-cert.pub:ok
    u5-cert.pub:ok u6-cert.pub:ok u7-cert.pub:ok o2-cert.pub:ok o4-cert.pub:ok
    u1.pub:ok u2.pub:ok"

# --- empty KRL -------------------------------------------------------------
expect_exit 0 "empty KRL written" "$KRLGEN" -o "$T/empty.krl"
check empty.krl "empty KRL: nothing revoked" $ALL_OK
expect_exit 0 "empty KRL: ssh-keygen -Q -l lists it" \
    ssh-keygen -Q -l -f "$T/empty.krl"
expect_grep '^# KRL version 0$' "$T/out" "empty KRL: version 0 listed"

# --- serials -----------------------------------------------------------------
expect_exit 0 "serial KRL written" "$KRLGEN" -o "$T/serial.krl" -c "$T/ca.pub" \
    -s $MAX -s 2 -s 1000 -s 2 -V 3 -d 1700000000 -C "serials"
check serial.krl "serials 2, 1000, 2^64-1 revoked; others and other CA not" \
    u1-cert.pub:ok u2-cert.pub:REVOKED u3-cert.pub:REVOKED u4-cert.pub:ok \
    u5-cert.pub:REVOKED u6-cert.pub:ok u7-cert.pub:ok o2-cert.pub:ok \
    u1.pub:ok u2.pub:ok
expect_exit 0 "serial KRL: ssh-keygen -Q -l lists it" \
    ssh-keygen -Q -l -f "$T/serial.krl"
expect_grep '^# KRL version 3$' "$T/out" "serial KRL: version listed"
expect_grep '^# Comment: serials$' "$T/out" "serial KRL: comment listed"
expect_grep "^serial: $MAX\$" "$T/out" "serial KRL: 2^64-1 listed"

# A run becomes a range subsection: its ends are inclusive.
seq 8 1000 | sed 's/^/-s /' | tr '\n' ' ' > "$T/range.args"
# shellcheck disable=SC2046
expect_exit 0 "range KRL written" "$KRLGEN" -o "$T/range.krl" -c "$T/ca.pub" \
    $(cat "$T/range.args") -s 1
check range.krl "range 8..1000 and serial 1: ends revoked, 7 not" \
    u1-cert.pub:REVOKED u2-cert.pub:ok u3-cert.pub:REVOKED u6-cert.pub:ok \
    u7-cert.pub:REVOKED u4-cert.pub:ok u5-cert.pub:ok
ssh-keygen -Q -l -f "$T/range.krl" > "$T/range.list" 2>&1
expect_grep '^serial: 8-1000$' "$T/range.list" "range KRL: listed as one range"

# --- key ids -----------------------------------------------------------------
expect_exit 0 "key id KRL written" "$KRLGEN" -o "$T/keyid.krl" -c "$T/ca.pub" \
    -i user6 -i user4 -i nobody -i user4
check keyid.krl "key ids user4, user6 revoked; others and other CA not" \
    u1-cert.pub:ok u2-cert.pub:ok u3-cert.pub:ok u4-cert.pub:REVOKED \
    u5-cert.pub:ok u6-cert.pub:REVOKED u7-cert.pub:ok o4-cert.pub:ok

# --- plain key by SHA-256 ------------------------------------------------------
expect_exit 0 "SHA-256 KRL written" "$KRLGEN" -o "$T/hash.krl" -k "$T/u3.pub" \
    -k "$T/u1.pub"
check hash.krl "keys u1, u3 revoked by SHA-256, with their certificates" \
    u1.pub:REVOKED u1-cert.pub:REVOKED u3-cert.pub:REVOKED u2.pub:ok \
    u2-cert.pub:ok u4-cert.pub:ok

# --- all together, against ssh-keygen -k's own KRL ---------------------------
expect_exit 0 "combined KRL written" "$KRLGEN" -o "$T/all.krl" -c "$T/ca.pub" \
    -s 2 -s 5 -s 6 -s 7 -s 8 -s $BIG -i user5 -i user1 -k "$T/u3.pub" -V 9
check all.krl "combined KRL: exactly the revoked ones" \
    u1-cert.pub:REVOKED u2-cert.pub:REVOKED u3-cert.pub:REVOKED \
    u4-cert.pub:REVOKED u5-cert.pub:REVOKED u6-cert.pub:REVOKED \
    u7-cert.pub:REVOKED o2-cert.pub:ok o4-cert.pub:ok u1.pub:ok u2.pub:ok
{
	printf 'serial: 2\nserial: 5-8\nserial: %s\nid: user5\nid: user1\n' $BIG
	printf 'hash: %s\n' "$(ssh-keygen -l -E sha256 -f "$T/u3.pub" | awk '{print $2}')"
} > "$T/spec"
ssh-keygen -q -k -f "$T/ref.krl" -s "$T/ca.pub" "$T/spec" 2>/dev/null || exit 99
ssh-keygen -Q -l -f "$T/ref.krl" 2>&1 | grep -v '^#' > "$T/ref.list"
ssh-keygen -Q -l -f "$T/all.krl" 2>&1 | grep -v '^#' > "$T/all.list"
if [ -s "$T/all.list" ] && cmp -s "$T/ref.list" "$T/all.list"; then
	pass "combined KRL lists the same as ssh-keygen -k's KRL"
else
	fail "combined KRL listing differs from ssh-keygen -k's"
	diff "$T/ref.list" "$T/all.list" | head -10 | sed 's/^/  | /'
fi

# --- 10000 random serials ------------------------------------------------------
od -An -tu8 -N80000 /dev/urandom | tr -s ' ' '\n' | grep -v '^0*$' |
    grep . > "$T/serials"
seq 500 700 >> "$T/serials"		# a run among them
n=$(sort -u "$T/serials" | wc -l)
in1=$(sed -n 17p "$T/serials") in2=$(sed -n 5000p "$T/serials")
in3=$(sed -n 9999p "$T/serials")
issue r1 rand1 "$in1"
issue r2 rand2 "$in2"
issue r3 rand3 "$in3"
issue r4 rand4 600
# serials not in the set (a collision with 10000 random 64-bit values is
# not going to happen; 499 and 701 border the run)
out1=$(od -An -tu8 -N8 /dev/urandom | tr -d ' ')
grep -qx "$out1" "$T/serials" && out1=3
issue r5 rand5 "$out1"
issue r6 rand6 499
issue r7 rand7 701
expect_exit 0 "10000-serial KRL written" "$KRLGEN" -o "$T/big.krl" \
    -c "$T/ca.pub" -S "$T/serials"
check big.krl "10000 serials: members revoked, others not" \
    r1-cert.pub:REVOKED r2-cert.pub:REVOKED r3-cert.pub:REVOKED \
    r4-cert.pub:REVOKED r5-cert.pub:ok r6-cert.pub:ok r7-cert.pub:ok \
    u1-cert.pub:ok
expect_exit 0 "10000-serial KRL: ssh-keygen -Q -l lists it" \
    ssh-keygen -Q -l -f "$T/big.krl"
got=$(awk '/^serial: [0-9]+-[0-9]+$/ { split($2, a, "-"); c += a[2] - a[1] + 1; next }
    /^serial: / { c++ } END { print c + 0 }' "$T/out")
if [ "$got" = "$n" ]; then
	pass "10000-serial KRL lists all $n serials"
else
	fail "10000-serial KRL lists $got serials, wanted $n"
fi

# --- what the encoder refuses ----------------------------------------------------
# Serial 0 makes OpenSSH reject the whole KRL, so it is never written.
expect_exit 1 "serial 0 refused" "$KRLGEN" -o "$T/zero.krl" -c "$T/ca.pub" -s 0
expect_exit 1 "serials without a CA refused" "$KRLGEN" -o "$T/noca.krl" -s 2
expect_exit 1 "a certificate as CA refused" "$KRLGEN" -o "$T/cert.krl" \
    -c "$T/u1-cert.pub" -s 2

finish
