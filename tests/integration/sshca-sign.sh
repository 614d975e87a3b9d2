#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# sshca-sign.sh - nkhsm-sshca init and sign against a SoftHSM token, every
# certificate read back by the real parser (ssh-keygen -L, which also checks
# the CA signature): types, key ids, principals, validity forms, serials (and
# their ledger entries), critical options and extensions (in ssh-keygen's own
# order), what sign refuses (no file written, no ledger entry), one login per
# batch, policy refusals, short ECDSA r/s values, a token that signs wrongly.
. "${top_srcdir:-.}/tests/integration/common.sh"

[ -x "$SSHCA" ] || { echo "nkhsm-sshca not built"; exit 99; }
command -v ssh-keygen >/dev/null 2>&1 || { echo "skip: ssh-keygen missing"; exit 77; }
export TZ=UTC

init_token ca

. "$top_srcdir/tests/integration/sshca-checks.sh"
epoch() { date -u -d "$1" +%s; }

# --- init: the CA line ----------------------------------------------------
expect_exit 0 "init" sc init
cp "$T/out" "$T/ca.pub"
check_init_line "$T/ca.pub"
expect_grep '^ecdsa-sha2-nistp256 ' "$T/ca.pub" "the CA key is ECDSA P-256"
expect_exit 0 "ca-pubkey" sc ca-pubkey
if cmp -s "$T/out" "$T/ca.pub"; then pass "ca-pubkey prints init's line"
else fail "ca-pubkey differs from init's output"; fi
expect_exit 9 "init again refused" sc init
CAFP=$(fp "$T/ca.pub")

# --- user and host certificates for every subject key type ------------------
mk() { ssh-keygen -q -t "$1" ${3:+-b $3} -N '' -C "$2" -f "$T/$2" || exit 99; }
mk ecdsa p256 256
mk ecdsa p384 384
mk ecdsa p521 521
mk ed25519 ed
mk rsa rsa2048 2048
mk rsa rsa3072 3072
mk rsa rsa1024 1024
for kt in p256:ecdsa-sha2-nistp256:ECDSA-CERT p384:ecdsa-sha2-nistp384:ECDSA-CERT \
    p521:ecdsa-sha2-nistp521:ECDSA-CERT ed:ssh-ed25519:ED25519-CERT \
    rsa2048:ssh-rsa:RSA-CERT rsa3072:ssh-rsa:RSA-CERT; do
	k=${kt%%:*} rest=${kt#*:}
	type=${rest%%:*} label=${rest#*:}
	for kind in user host; do
		rm -f "$T/$k-cert.pub"
		expect_exit 0 "$k: sign --$kind" sc sign --$kind -I "id-$k-$kind" \
		    -n "$k.example,alt-$kind" -V +1h "$T/$k.pub"
		if ! certsum "$T/$k-cert.pub"; then
			fail "$k $kind: ssh-keygen -L rejects the certificate"
			sed 's/^/  | /' "$T/L" | head -3
			continue
		fi
		expect_v type "$type-cert-v01@openssh.com $kind certificate" "$k $kind: Type"
		expect_v pub "$label $(fp "$T/$k.pub")" "$k $kind: subject key"
		expect_v ca "ECDSA $CAFP (using ecdsa-sha2-nistp256)" "$k $kind: signed by the CA"
		expect_v keyid "\"id-$k-$kind\"" "$k $kind: Key ID"
		expect_v principals "$k.example;alt-$kind" "$k $kind: Principals"
		if [ "$kind" = user ]; then
			expect_v ext "permit-X11-forwarding;permit-agent-forwarding;permit-port-forwarding;permit-pty;permit-user-rc" \
			    "$k user: the default extensions"
		else
			expect_v ext "(none)" "$k host: no extensions"
		fi
		expect_v crit "(none)" "$k $kind: no critical options"
		s=$(v serial)
		case "$s" in
		'' | 0 | *[!0-9]*) fail "$k $kind: serial '$s' is not a non-zero number" ;;
		*) expect_ledger "$s" "\"kind\":\"ssh-$kind\",\"serial\":\"$s\",\"key_id\":\"id-$k-$kind\",\"principals\":\"$k.example,alt-$kind\"" \
		    "$k $kind: serial $s in the ledger with its id and principals" ;;
		esac
		expect_ledger "$s" "\"subject\":\"$(fp "$T/$k.pub")\"" "$k $kind: ledger subject"
	done
done

# --- -V forms ----------------------------------------------------------------
# valid_check DESC: the last certsum's "from A to B" as epoch in $vf, $vt.
valid_fromto() {
	set -- $(v valid)
	[ "$1" = from ] && [ "$3" = to ] || { vf=''; vt=''; return 1; }
	vf=$(epoch "$2") vt=$(epoch "$4")
	vfs=$2 vts=$4
}
t0=$(date +%s)
expect_exit 0 "-V +1h" sc sign --user -I v1 -n v1 -V +1h "$T/ed.pub"
t1=$(date +%s)
certsum "$T/ed-cert.pub"
if valid_fromto && [ "$vf" -ge "$t0" ] && [ "$vf" -le "$t1" ] &&
    [ $((vt - vf)) -eq 3600 ]; then
	pass "-V +1h: from now to now+1h"
else
	fail "-V +1h: Valid is '$(v valid)' (signed between $t0 and $t1)"
fi
expect_ledger "$(v serial)" "\"valid_after\":\"${vfs}Z\",\"valid_before\":\"${vts}Z\"" \
    "-V +1h: the ledger has the same validity"
t0=$(date +%s)
expect_exit 0 "-V -5m:+1d" sc sign --user -I v2 -n v2 -V -5m:+1d "$T/ed.pub"
t1=$(date +%s)
certsum "$T/ed-cert.pub"
if valid_fromto && [ "$vf" -ge $((t0 - 300)) ] && [ "$vf" -le $((t1 - 300)) ] &&
    [ $((vt - vf)) -eq $((86400 + 300)) ]; then
	pass "-V -5m:+1d: from now-5m to now+1d"
else
	fail "-V -5m:+1d: Valid is '$(v valid)' (signed between $t0 and $t1)"
fi
expect_exit 0 "-V 20300101:20300201" sc sign --user -I v3 -n v3 -V 20300101:20300201 "$T/ed.pub"
certsum "$T/ed-cert.pub"
expect_v valid "from 2030-01-01T00:00:00 to 2030-02-01T00:00:00" "-V 20300101:20300201: exact"
expect_ledger "$(v serial)" '"valid_after":"2030-01-01T00:00:00Z","valid_before":"2030-02-01T00:00:00Z"' \
    "-V 20300101:20300201: ledger"
expect_exit 0 "-V 203001011230:20300101123045" sc sign --user -I v3b -n v3 \
    -V 203001011230:20300101123045 "$T/ed.pub"
certsum "$T/ed-cert.pub"
expect_v valid "from 2030-01-01T12:30:00 to 2030-01-01T12:30:45" "-V with minutes and seconds: exact"
t0=$(date +%s)
expect_exit 0 "-V always:+1d" sc sign --user -I v4 -n v4 -V always:+1d "$T/ed.pub"
t1=$(date +%s)
certsum "$T/ed-cert.pub"
set -- $(v valid)
if [ "$1" = before ] && [ "$(epoch "$2")" -ge $((t0 + 86400)) ] &&
    [ "$(epoch "$2")" -le $((t1 + 86400)) ]; then
	pass "-V always:+1d: valid before now+1d, no start"
else
	fail "-V always:+1d: Valid is '$(v valid)'"
fi
expect_ledger "$(v serial)" '"valid_after":"always"' "-V always:+1d: ledger says always"
expect_exit 0 "-V forever" sc sign --user -I v5 -n v5 -V forever "$T/ed.pub"
certsum "$T/ed-cert.pub"
expect_v valid "forever" "-V forever: Valid: forever"
expect_ledger "$(v serial)" '"valid_after":"always","valid_before":"forever"' "-V forever: ledger"
rm -f "$T/ed-cert.pub"
n0=$(ledger_count)
expect_exit 2 "no -V refused" sc sign --user -I v6 -n v6 "$T/ed.pub"
expect_grep 'forever' "$T/err" "no -V: the message says how to ask for forever"
expect_exit 2 "-I without its argument refused" sc sign --user -I
expect_grep "option '-I' needs an argument" "$T/err" "-I without its argument: message"
expect_exit 2 "an option another command takes refused" sc list -I x
expect_grep "list does not take -I" "$T/err" "-I for list: message names -I"
expect_exit 2 "-V +1x refused" sc sign --user -I v6 -n v6 -V +1x "$T/ed.pub"
expect_exit 2 "-V ending before it starts refused" sc sign --user -I v6 -n v6 \
    -V 20300201:20300101 "$T/ed.pub"
expect_exit 2 "-V 20301301 (month 13) refused" sc sign --user -I v6 -n v6 -V 20301301 "$T/ed.pub"
expect_exit 2 "-V 20300231 (Feb 31) refused" sc sign --user -I v6 -n v6 -V 20300231 "$T/ed.pub"
if [ ! -e "$T/ed-cert.pub" ] && [ "$(ledger_count)" -eq "$n0" ]; then
	pass "refused -V: no certificate written, nothing in the ledger"
else
	fail "refused -V left a certificate or a ledger entry"
fi

# --- critical options and extensions ------------------------------------------
OPTS="-O force-command=/bin/true -O source-address=10.0.0.0/8,192.168.1.1 \
    -O verify-required -O no-touch-required -O no-pty -O no-x11-forwarding"
# shellcheck disable=SC2086
expect_exit 0 "sign with critical options and extensions" sc sign --user -I o1 \
    -n o1 -V +1h $OPTS "$T/p256.pub"
certsum "$T/p256-cert.pub" || fail "options: ssh-keygen -L rejects the certificate"
expect_v crit "force-command /bin/true;source-address 10.0.0.0/8,192.168.1.1;verify-required" \
    "critical options: force-command, source-address, verify-required, sorted"
expect_v ext "no-touch-required;permit-agent-forwarding;permit-port-forwarding;permit-user-rc" \
    "extensions: no-* removed defaults, no-touch-required added, sorted"
cp "$T/sum" "$T/sum.ours"
# The same options through ssh-keygen with a software CA: same lists.
ssh-keygen -q -t ed25519 -N '' -f "$T/swca" || exit 99
cp "$T/p256.pub" "$T/ref.pub"
# shellcheck disable=SC2086
ssh-keygen -q -s "$T/swca" -I o1 -n o1 -V +1h $OPTS "$T/ref.pub" 2>/dev/null || exit 99
certsum "$T/ref-cert.pub"
if [ "$(grep -E '^(crit|ext)=' "$T/sum")" = "$(grep -E '^(crit|ext)=' "$T/sum.ours")" ]; then
	pass "options and extensions listed as for ssh-keygen's own certificate"
else
	fail "options differ from ssh-keygen's: $(grep -E '^(crit|ext)=' "$T/sum" | tr '\n' ' ')"
fi
expect_exit 0 "-O clear" sc sign --user -I o2 -n o2 -V +1h -O clear "$T/p256.pub"
certsum "$T/p256-cert.pub"
expect_v ext "(none)" "-O clear: no extensions"
expect_exit 0 "-O clear -O permit-pty" sc sign --user -I o3 -n o3 -V +1h -O clear \
    -O permit-pty -O permit-agent-forwarding "$T/p256.pub"
certsum "$T/p256-cert.pub"
expect_v ext "permit-agent-forwarding;permit-pty" "-O clear then permit-*: exactly those"
expect_exit 0 "-O no-user-rc -O no-port-forwarding -O no-agent-forwarding" sc sign \
    --user -I o4 -n o4 -V +1h -O no-user-rc -O no-port-forwarding \
    -O no-agent-forwarding "$T/p256.pub"
certsum "$T/p256-cert.pub"
expect_v ext "permit-X11-forwarding;permit-pty" "no-* forms remove their extensions"
rm -f "$T/p256-cert.pub"
n0=$(ledger_count)
expect_exit 2 "an unknown -O refused" sc sign --user -I o5 -n o5 -V +1h \
    -O permit-everything "$T/p256.pub"
expect_grep 'permit-everything' "$T/err" "unknown -O: named in the message"
expect_exit 2 "-O source-address=not-an-address refused" sc sign --user -I o5 -n o5 \
    -V +1h -O source-address=example.com "$T/p256.pub"
expect_exit 2 "a host certificate with -O refused" sc sign --host -I h -n h.example \
    -V +1h -O permit-pty "$T/p256.pub"
expect_exit 2 "a host certificate with -O force-command refused" sc sign --host -I h \
    -n h.example -V +1h -O force-command=/bin/true "$T/p256.pub"
if [ ! -e "$T/p256-cert.pub" ] && [ "$(ledger_count)" -eq "$n0" ]; then
	pass "refused options: no certificate written, nothing in the ledger"
else
	fail "refused options left a certificate or a ledger entry"
fi

# --- serials: -z N, -z +N -------------------------------------------------------
expect_exit 0 "-z 4242" sc sign --user -I z1 -n z1 -V +1h -z 4242 "$T/p256.pub"
certsum "$T/p256-cert.pub"
expect_v serial 4242 "-z 4242: Serial: 4242"
expect_ledger 4242 '"key_id":"z1"' "-z 4242: in the ledger"
rm -f "$T/p384-cert.pub"
expect_exit 9 "-z 4242 again refused (serial issued before)" sc sign --user -I z1b \
    -n z1 -V +1h -z 4242 "$T/p384.pub"
[ -e "$T/p384-cert.pub" ] && fail "-z reused: a certificate was written" ||
    pass "-z reused: no certificate written"
for i in 1 2 3; do cp "$T/ed.pub" "$T/z$i.pub"; done
expect_exit 0 "-z +1000 over a batch of 3" sc sign --user -I zb -n zb -V +1h \
    -z +1000 "$T/z1.pub" "$T/z2.pub" "$T/z3.pub"
got=
for i in 1 2 3; do certsum "$T/z$i-cert.pub"; got="$got $(v serial)"; done
[ "$got" = " 1000 1001 1002" ] && pass "-z +1000: serials 1000, 1001, 1002" ||
    fail "-z +1000: serials$got"
rm -f "$T/z1-cert.pub"
n0=$(ledger_count)
expect_exit 2 "-z 0x10 refused (decimal, as ssh-keygen)" sc sign --user -I zh -n zh -V +1h \
    -z 0x10 "$T/z1.pub"
expect_exit 2 "-z 18446744073709551616 (2^64) refused" sc sign --user -I zh -n zh -V +1h \
    -z 18446744073709551616 "$T/z1.pub"
expect_exit 2 "-z 0 refused" sc sign --user -I z0 -n z0 -V +1h -z 0 "$T/z1.pub"
expect_exit 2 "-z +0 refused" sc sign --user -I z0 -n z0 -V +1h -z +0 "$T/z1.pub"
expect_exit 2 "-z -5 refused" sc sign --user -I z0 -n z0 -V +1h -z -5 "$T/z1.pub"
expect_exit 2 "-z N (not +N) with several keys refused" sc sign --user -I z0 -n z0 \
    -V +1h -z 77 "$T/z1.pub" "$T/z2.pub"
expect_exit 2 "-z +(2^64-1) over 2 keys (wraps to 0) refused" sc sign --user -I z0 \
    -n z0 -V +1h -z +18446744073709551615 "$T/z1.pub" "$T/z2.pub"
if [ ! -e "$T/z1-cert.pub" ] && [ "$(ledger_count)" -eq "$n0" ]; then
	pass "refused -z: no certificate written, nothing in the ledger"
else
	fail "refused -z left a certificate or a ledger entry"
fi

# --- what sign refuses: keys, principals -------------------------------------------
b64() { awk '{print $2}' "$1"; }
printf 'ssh-ed25519 !!!not*base64 x\n' > "$T/bad-b64.pub"
printf 'ssh-ed25519 %s x\n' "$(b64 "$T/ed.pub" | cut -c1-40)" > "$T/bad-trunc.pub"
printf 'ssh-rsa %s x\n' "$(b64 "$T/ed.pub")" > "$T/bad-type.pub"
: > "$T/bad-empty.pub"
printf 'x-unknown %s\n' "$(printf '\000\000\000\011x-unknown' | base64)" > "$T/bad-unk.pub"
# P-256 point off the curve: flip the last bit of the last coordinate byte.
b64 "$T/p256.pub" | base64 -d > "$T/p256.blob"
n=$(wc -c < "$T/p256.blob")
last=$(tail -c 1 "$T/p256.blob" | od -An -tu1 | tr -d ' ')
{ head -c $((n - 1)) "$T/p256.blob"; printf "\\$(printf '%03o' $((last ^ 1)))"; } > "$T/p256.bad"
printf 'ecdsa-sha2-nistp256 %s x\n' "$(base64 -w0 < "$T/p256.bad")" > "$T/bad-point.pub"
sc sign --user -I c -n c -V +1h "$T/p384.pub" 2>/dev/null || exit 99
mv "$T/p384-cert.pub" "$T/bad-cert.pub"
n0=$(ledger_count)
for bm in "bad-b64:not valid base64" "bad-trunc:invalid ssh-ed25519 key" \
    "bad-type:not of type ssh-rsa" "bad-empty:not a public key line" \
    "bad-unk:unsupported key type x-unknown" "bad-point:invalid ecdsa-sha2-nistp256 key" \
    "bad-cert:is a certificate, not a public key" "rsa1024:RSA key of 1024 bits refused" \
    "missing:No such file"; do
	b=${bm%%:*} msg=${bm#*:}
	expect_exit 2 "$b: refused" sc sign --user -I bad -n bad -V +1h "$T/$b.pub"
	if grep -qF -- "$T/$b.pub" "$T/err" && grep -qF -- "$msg" "$T/err"; then
		pass "$b: message names the file and says '$msg'"
	else
		fail "$b: message is '$(cat "$T/err")', wanted the file and '$msg'"
	fi
	[ -e "$T/$b-cert.pub" ] && fail "$b: a certificate file was written" ||
	    pass "$b: no certificate file"
done
# A bad key in a batch: nothing is issued, not even for the good keys.
rm -f "$T/z1-cert.pub" "$T/z2-cert.pub"
expect_exit 2 "a batch with one malformed key refused" sc sign --user -I bad -n bad \
    -V +1h "$T/z1.pub" "$T/bad-trunc.pub" "$T/z2.pub"
[ -e "$T/z1-cert.pub" ] || [ -e "$T/z2-cert.pub" ] &&
    fail "batch with a bad key: good keys were signed anyway" ||
    pass "batch with a bad key: no certificate for the good keys either"
expect_exit 2 "empty -n refused" sc sign --user -I e -n '' -V +1h "$T/z1.pub"
expect_exit 2 "no -n refused" sc sign --user -I e -V +1h "$T/z1.pub"
expect_exit 2 "-n a,,b refused" sc sign --user -I e -n a,,b -V +1h "$T/z1.pub"
expect_exit 2 "-n a,a (duplicate) refused" sc sign --user -I e -n a,a -V +1h "$T/z1.pub"
p300=$(seq 1 300 | sed 's/^/p/' | paste -sd, -)
expect_exit 2 "300 principals refused" sc sign --user -I e -n "$p300" -V +1h "$T/z1.pub"
expect_grep 'more than 256 principals' "$T/err" "300 principals: message gives the limit"
p256=$(seq 1 256 | sed 's/^/p/' | paste -sd, -)
expect_exit 2 "no -I refused" sc sign --user -n e -V +1h "$T/z1.pub"
expect_exit 2 "neither --user nor --host refused" sc sign -I e -n e -V +1h "$T/z1.pub"
expect_exit 2 "both --user and --host refused" sc sign --user --host -I e -n e -V +1h "$T/z1.pub"
if [ ! -e "$T/z1-cert.pub" ] && [ "$(ledger_count)" -eq "$n0" ]; then
	pass "refused keys and principals: no certificate written, nothing in the ledger"
else
	fail "refused requests left a certificate or $(( $(ledger_count) - n0 )) ledger entries"
fi
expect_exit 0 "256 principals accepted" sc sign --user -I e -n "$p256" -V +1h "$T/z1.pub"
certsum "$T/z1-cert.pub"
[ "$(v principals | tr ';' '\n' | wc -l)" -eq 256 ] && [ "$(v principals | tr ';' ',')" = "$p256" ] &&
    pass "256 principals: all listed in order" || fail "256 principals: not all listed"
# 256 principals of 255 bytes: a log entry far over 8 KiB, kept whole.
long=$(seq 1 256 | awk '{ s = sprintf("%03d", $1); while (length(s) < 255) s = s "x"; print s }' |
    paste -sd, -)
expect_exit 0 "256 principals of 255 bytes accepted" sc sign --user -I long -n "$long" -V +1h "$T/z1.pub"
certsum "$T/z1-cert.pub"
[ "$(v principals | tr ';' ',')" = "$long" ] && pass "256 long principals: all in the certificate" ||
    fail "256 long principals: the certificate lists others"
expect_ledger "$(v serial)" "\"principals\":\"$long\"" "256 long principals: all in the ledger"
expect_exit 0 "256 long principals: verify-log ok (the log entry was not cut)" sc verify-log
rm -f "$T/z1-cert.pub"

# --- a batch of 50: one login -----------------------------------------------
FAULT=$FAULT_MODULE
if [ -f "$FAULT" ]; then
	mkdir "$T/b50"
	for i in $(seq 1 50); do
		ssh-keygen -q -t ed25519 -N '' -C "b$i" -f "$T/b50/k$i" || exit 99
	done
	n0=$(ledger_count)
	expect_exit 0 "batch of 50 through the fault module (logging)" env \
	    NKFAULT_MODULE="$SOFTHSM_MODULE" NKFAULT_LOG="$T/b50.log" \
	    "$SSHCA" --config "$T/nkhsm.conf" --state "$T/state" --module "$FAULT" \
	    --pin-source env:NK_TEST_PIN sign --user -I batch -n batch -V +1h "$T"/b50/k*.pub
	logins=$(awk '$2 == "C_Login"' "$T/b50.log" | wc -l)
	signs=$(awk '$2 == "C_Sign"' "$T/b50.log" | wc -l)
	[ "$logins" -eq 1 ] && pass "batch of 50: exactly one C_Login" ||
	    fail "batch of 50: $logins C_Login calls, wanted 1"
	[ "$signs" -eq 50 ] && pass "batch of 50: 50 C_Sign calls" ||
	    fail "batch of 50: $signs C_Sign calls, wanted 50"
	check_batch "batch of 50" batch ecdsa-sha2-nistp256 "$n0" \
	    $(seq -f "$T/b50/k%g.pub" 1 50)
else
	fail "fault module $FAULT not built (make check builds it)"
fi

# --- policy -----------------------------------------------------------------------
POL="$T/state/policy.conf"
cat > "$POL" <<'EOF'
# test policy
[user]
max_validity = 8h
principals = %k
[user "admin-*"]
principals = root
max_validity = 1h
[host]
max_validity = 365d
key_types = ssh-ed25519
EOF
chmod 600 "$POL"
rm -f "$T/ed-cert.pub" "$T/z1-cert.pub" "$T/z2-cert.pub"
n0=$(ledger_count)
expect_exit 12 "policy: max_validity exceeded -> 12" sc sign --user -I alice -n alice \
    -V +9h "$T/ed.pub"
expect_grep "$POL:3: max_validity 8h exceeded" "$T/err" "policy: the refusal names policy.conf:3"
expect_exit 12 "policy: forever refused -> 12" sc sign --user -I alice -n alice \
    -V forever "$T/ed.pub"
expect_exit 12 "policy: principal not allowed -> 12" sc sign --user -I alice -n alice,bob \
    -V +1h "$T/ed.pub"
expect_grep "$POL:4: principal 'bob' not allowed" "$T/err" "policy: principal refusal names line 4"
expect_exit 12 "policy: admin-* overrides principals (own name refused)" sc sign --user \
    -I admin-x -n admin-x -V +1h "$T/ed.pub"
expect_grep "$POL:6: principal 'admin-x' not allowed" "$T/err" "policy: names the pattern section's line 6"
expect_exit 12 "policy: admin-* overrides max_validity (2h > 1h)" sc sign --user \
    -I admin-x -n root -V +2h "$T/ed.pub"
expect_grep "$POL:7: max_validity 1h exceeded" "$T/err" "policy: names the pattern's line 7"
expect_exit 12 "policy: a batch with one disallowed request" sc sign --user -I alice \
    -n alice -V +9h "$T/z1.pub" "$T/z2.pub"
expect_exit 12 "policy: post-dated +7h:+9h (ends 9h from now) refused" sc sign --user \
    -I alice -n alice -V +7h:+9h "$T/ed.pub"
expect_grep "$POL:3: max_validity 8h exceeded" "$T/err" "policy: post-dating names line 3"
if [ ! -e "$T/ed-cert.pub" ] && [ ! -e "$T/z1-cert.pub" ] && [ "$(ledger_count)" -eq "$n0" ]; then
	pass "policy refusals: no certificate written, nothing in the ledger"
else
	fail "policy refusals left a certificate or a ledger entry"
fi
expect_exit 0 "policy: allowed user request passes" sc sign --user -I alice -n alice \
    -V +8h "$T/ed.pub"
certsum "$T/ed-cert.pub" && [ "$(v principals)" = alice ] && pass "policy: allowed cert parses" ||
    fail "policy: allowed cert does not parse"
expect_exit 0 "policy: admin-x as root for 1h passes" sc sign --user -I admin-x -n root \
    -V +1h "$T/ed.pub"
expect_exit 0 "policy: backdated -10h:+8h (8h from now) passes" sc sign --user -I alice \
    -n alice -V -10h:+8h "$T/ed.pub"
expect_exit 0 "policy: host for 300d passes" sc sign --host -I h -n h.example -V +300d "$T/ed.pub"
expect_exit 12 "policy: host for 400d refused" sc sign --host -I h -n h.example -V +400d "$T/ed.pub"
expect_grep "$POL:9: max_validity 365d exceeded" "$T/err" "policy: host refusal names line 9"
expect_exit 12 "policy: host key type not in key_types refused" sc sign --host -I h \
    -n h.example -V +1d "$T/p256.pub"
expect_grep "$POL:10: key type 'ecdsa-sha2-nistp256' not allowed" "$T/err" \
    "policy: key type refusal names line 10"
printf '[host]\nmax_validity = 1d\n' > "$T/hostonly.conf"
chmod 600 "$T/hostonly.conf"
expect_exit 12 "--policy FILE without [user]: user certificate refused" sc sign --user \
    --policy "$T/hostonly.conf" -I alice -n alice -V +1h "$T/ed.pub"
expect_grep "no \[user\] section" "$T/err" "--policy: the refusal says no [user] section"
printf '[user]\nmax_validity = 8h\nbogus = 1\n' > "$T/broken.conf"
chmod 600 "$T/broken.conf"
expect_exit 2 "a malformed --policy refused (exit 2)" sc sign --user --policy "$T/broken.conf" \
    -I alice -n alice -V +1h "$T/ed.pub"
expect_grep "broken.conf:3: unknown key 'bogus'" "$T/err" "malformed policy: names file:line"
rm -f "$POL"

# --- short r/s: many signatures, all parse; at least one short r or s seen ---------
# sigshort FILES...: how many certificates carry an ECDSA r or s under 32 bytes.
sigshort() {
	python3 - "$@" <<'EOF'
import base64, struct, sys
def get(b, i, fixed=None):
    if fixed:
        return b[i:i+fixed], i + fixed
    n = struct.unpack('>I', b[i:i+4])[0]
    return b[i+4:i+4+n], i + 4 + n
short = 0
for f in sys.argv[1:]:
    b = base64.b64decode(open(f).read().split()[1])
    i = 0
    for kind in ('s', 's', 's', 8, 4, 's', 's', 8, 8, 's', 's', 's', 's'):
        _, i = get(b, i, None if kind == 's' else kind)   # ed25519 subject cert
    sig, i = get(b, i)
    assert i == len(b)
    name, j = get(sig, 0)
    rs, _ = get(sig, j)
    r, k = get(rs, 0)
    s_, _ = get(rs, k)
    if len(r.lstrip(b'\0')) < 32 or len(s_.lstrip(b'\0')) < 32:
        short += 1
print(short)
EOF
}
mkdir "$T/b300"
for i in $(seq 1 300); do cp "$T/ed.pub" "$T/b300/k$i.pub"; done
short=0 bad=0 total=0 round=0
command -v python3 >/dev/null 2>&1 || short=skip
while [ $round -lt 5 ]; do
	round=$((round + 1))
	rm -f "$T"/b300/*-cert.pub
	if ! sc -q sign --user -I short -n short -V +1h "$T"/b300/k*.pub 2>"$T/err"; then
		fail "300-certificate batch (round $round) failed: $(head -1 "$T/err")"
		break
	fi
	for f in "$T"/b300/*-cert.pub; do
		ssh-keygen -L -f "$f" >/dev/null 2>&1 || bad=$((bad + 1))
		total=$((total + 1))
	done
	[ "$short" = skip ] && break
	short=$((short + $(sigshort "$T"/b300/*-cert.pub)))
	[ "$short" -gt 0 ] && break
done
[ "$bad" -eq 0 ] && [ "$total" -ge 300 ] &&
    pass "batches of 300: all $total certificates parse and verify (ssh-keygen -L)" ||
    fail "batches of 300: $bad of $total certificates rejected by ssh-keygen -L"
if [ "$short" = skip ]; then
	echo "note: python3 missing, short r/s occurrence not counted"
elif [ "$short" -gt 0 ]; then
	pass "short r/s: $short of $total signatures had a short r or s, all accepted"
else
	fail "short r/s: none seen in $total signatures (expected about 0.8%)"
fi

# --- a P-384 CA: SHA-384 signatures ---------------------------------------------------
expect_exit 0 "init --curve p384 (second CA on the token)" "$SSHCA" --config "$T/nkhsm.conf" \
    --state "$T/state384" --module "$SOFTHSM_MODULE" --pin-source env:NK_TEST_PIN \
    init --curve p384 --label ca384
expect_grep '^ecdsa-sha2-nistp384 ' "$T/out" "P-384 CA line"
cp "$T/out" "$T/ca384.pub"
expect_exit 0 "P-384 CA signs" "$SSHCA" --config "$T/nkhsm.conf" --state "$T/state384" \
    --module "$SOFTHSM_MODULE" --pin-source env:NK_TEST_PIN sign --user -I c384 -n c384 \
    -V +1h "$T/p521.pub"
certsum "$T/p521-cert.pub" || fail "P-384 CA: ssh-keygen -L rejects its certificate"
expect_v ca "ECDSA $(fp "$T/ca384.pub") (using ecdsa-sha2-nistp384)" "P-384 CA: signature verifies, ecdsa-sha2-nistp384"
expect_exit 2 "init --curve p521 refused" "$SSHCA" --config "$T/nkhsm.conf" \
    --state "$T/state521" --module "$SOFTHSM_MODULE" --pin-source env:NK_TEST_PIN \
    init --curve p521 --label ca521

# --- a token whose signatures are wrong ------------------------------------------------
if [ -f "$FAULT" ]; then
	rm -f "$T/p256-cert.pub"
	n0=$(ledger_count)
	expect_exit 8 "corrupted token signature -> 8" env NKFAULT_MODULE="$SOFTHSM_MODULE" \
	    NKFAULT_CORRUPT=sig "$SSHCA" --config "$T/nkhsm.conf" --state "$T/state" \
	    --module "$FAULT" --pin-source env:NK_TEST_PIN sign --user -I cor -n cor \
	    -V +1h "$T/p256.pub"
	expect_grep 'does not verify' "$T/err" "corrupted signature: message says it does not verify"
	[ -e "$T/p256-cert.pub" ] && fail "corrupted signature: a certificate was written" ||
	    pass "corrupted signature: no certificate file"
	[ "$(ledger_count)" -eq "$n0" ] && pass "corrupted signature: no ledger entry" ||
	    fail "corrupted signature: the ledger grew"
fi
# A batch is verified in a second thread: every signature of a chunk must
# verify before anything is recorded, and a token that fails half-way
# through stops that thread too.
if [ -f "$FAULT" ]; then
	for i in 1 2 3 4 5; do
		ssh-keygen -q -t ecdsa -b 256 -N '' -C "b$i" -f "$T/batch$i"
	done
	n0=$(ledger_count)
	expect_exit 8 "batch of 5, corrupted signatures -> 8" env NKFAULT_MODULE="$SOFTHSM_MODULE" \
	    NKFAULT_CORRUPT=sig "$SSHCA" --config "$T/nkhsm.conf" --state "$T/state" \
	    --module "$FAULT" --pin-source env:NK_TEST_PIN sign --user -I cor -n cor \
	    -V +1h "$T"/batch?.pub
	expect_grep 'does not verify' "$T/err" "batch, corrupted: message says it does not verify"
	ls "$T"/batch?-cert.pub "$T"/batch?-cert.pub.tmp* >/dev/null 2>&1 &&
	    fail "batch, corrupted: a certificate was written" ||
	    pass "batch, corrupted: no certificate file"
	[ "$(ledger_count)" -eq "$n0" ] && pass "batch, corrupted: no ledger entry" ||
	    fail "batch, corrupted: the ledger grew"
	expect_exit 3 "batch of 5, token removed at the third signature -> 3" \
	    env NKFAULT_MODULE="$SOFTHSM_MODULE" NKFAULT_FAIL_FN=C_Sign NKFAULT_FAIL_FN_AT=3 \
	    "$SSHCA" --config "$T/nkhsm.conf" --state "$T/state" \
	    --module "$FAULT" --pin-source env:NK_TEST_PIN sign --user -I pulled -n p \
	    -V +1h "$T"/batch?.pub
	ls "$T"/batch?-cert.pub "$T"/batch?-cert.pub.tmp* >/dev/null 2>&1 &&
	    fail "batch, token removed: a certificate was written" ||
	    pass "batch, token removed: no certificate file"
	[ "$(ledger_count)" -eq "$n0" ] && pass "batch, token removed: no ledger entry" ||
	    fail "batch, token removed: the ledger grew"
	expect_exit 0 "batch of 5 on a good token" "$SSHCA" --config "$T/nkhsm.conf" \
	    --state "$T/state" --module "$SOFTHSM_MODULE" --pin-source env:NK_TEST_PIN \
	    sign --user -I good -n g -V +1h "$T"/batch?.pub
	ok=0
	for i in 1 2 3 4 5; do
		ssh-keygen -L -f "$T/batch$i-cert.pub" 2>/dev/null | grep -q "Key ID: \"good\"" &&
		    ok=$((ok + 1))
	done
	[ "$ok" -eq 5 ] && pass "batch of 5: five certificates ssh-keygen reads" ||
	    fail "batch of 5: $ok of 5 certificates read"
	[ "$(ledger_count)" -eq $((n0 + 5)) ] && pass "batch of 5: five ledger entries" ||
	    fail "batch of 5: $(($(ledger_count) - n0)) ledger entries"
fi
expect_exit 0 "verify-log after all of it" sc verify-log

finish
