# SPDX-License-Identifier: BSD-2-Clause
# sshca-checks.sh - sourced after common.sh by the nkhsm-sshca tests: the
# ledger as JSON lines, certificates read back by ssh-keygen -L, and checks
# that run the same on SoftHSM and on the card (sc works on $TEST_MODULE).

# ledger: one JSON object per line; ledger_count: how many.
ledger() { sc list --json 2>/dev/null | sed 's/^\[//; s/\]$//; s/},{/}\n{/g'; }
ledger_count() { ledger | grep -c '"family":'; }
# expect_ledger SERIAL SUBSTRING DESC: the ledger's entry for SERIAL has it.
expect_ledger() {
	l=$(ledger | grep "\"serial\":\"$1\"")
	case "$l" in
	*"$2"*) pass "$3" ;;
	*) fail "$3: ledger entry for serial '$1' is '$l', wanted it to contain '$2'" ;;
	esac
}
fp() { ssh-keygen -l -E sha256 -f "$1" | awk '{print $2}'; }
expect_eq() {
	if [ "$1" = "$2" ]; then pass "$3"; else fail "$3: got '$1', wanted '$2'"; fi
}

# certsum FILE: ssh-keygen -L as KEY=VALUE lines in $T/sum (lists joined by
# ';'); returns ssh-keygen's status.
certsum() {
	: > "$T/sum"
	ssh-keygen -L -f "$1" > "$T/L" 2>&1 || return 1
	awk '
	function flush() { if (sec != "") print sec "=" list; sec = ""; list = "" }
	/^        [A-Z]/ { flush() }
	/^        Type: / { sub(/^ *Type: /, ""); print "type=" $0; next }
	/^        Public key: / { sub(/^ *Public key: /, ""); print "pub=" $0; next }
	/^        Signing CA: / { sub(/^ *Signing CA: /, ""); print "ca=" $0; next }
	/^        Key ID: / { sub(/^ *Key ID: /, ""); print "keyid=" $0; next }
	/^        Serial: / { print "serial=" $2; next }
	/^        Valid: / { sub(/^ *Valid: /, ""); print "valid=" $0; next }
	/^        (Principals|Critical Options|Extensions):/ {
		s = $1 == "Principals:" ? "principals" : $1 == "Critical" ? "crit" : "ext"
		if ($0 ~ /\(none\)$/) print s "=(none)"; else sec = s
		next
	}
	/^                / { sub(/^ +/, ""); list = list (list == "" ? "" : ";") $0; next }
	END { flush() }' "$T/L" > "$T/sum"
}
v() { sed -n "s/^$1=//p" "$T/sum"; }
# expect_v KEY WANT DESC: the last certsum's KEY is exactly WANT.
expect_v() {
	got=$(v "$1")
	if [ "$got" = "$2" ]; then
		pass "$3"
	else
		fail "$3: $1 is '$got', wanted '$2'"
	fi
}

# check_init_line CAPUB: init printed one line, and it is a key that
# ssh-keygen -D lists on the token.
check_init_line() {
	ssh-keygen -D "$TEST_MODULE" 2>/dev/null | awk '{print $1, $2}' > "$T/token.pub"
	if [ "$(wc -l < "$1")" -eq 1 ] &&
	    grep -qxF "$(awk '{print $1, $2}' "$1")" "$T/token.pub"; then
		pass "init prints the token's CA key line (ssh-keygen -D)"
	else
		fail "init's CA line is not one of ssh-keygen -D's"
		sed 's/^/  | /' "$1" "$T/token.pub"
	fi
}

# check_batch NAME KEYID CATYPE N0 KEY.pub...: after one sign of the batch,
# ssh-keygen -L accepts every certificate, each for its own key, signed by
# the CA ($CAFP, whose key type is CATYPE), with KEYID; the serials are
# distinct and every one is in the ledger, which grew by exactly the batch
# from N0 entries.
check_batch() {
	_name=$1 _id=$2 _catype=$3 _n0=$4
	shift 4
	_good=0
	: > "$T/$_name.serials"
	for _k in "$@"; do
		if certsum "${_k%.pub}-cert.pub" && [ "$(v keyid)" = "\"$_id\"" ] &&
		    [ "$(v pub)" = "$(ssh-keygen -l -f "$_k" | awk '{print $NF}' |
		    tr -d '()')-CERT $(fp "$_k")" ] &&
		    [ "$(v ca)" = "ECDSA $CAFP (using $_catype)" ]; then
			_good=$((_good + 1))
			v serial >> "$T/$_name.serials"
		else
			echo "  | ${_k%.pub}-cert.pub: $(tr '\n' ' ' < "$T/sum")"
		fi
	done
	[ "$_good" -eq $# ] && pass "$_name: all $# certificates valid, for their keys" ||
	    fail "$_name: $_good of $# certificates valid"
	[ "$(sort -u "$T/$_name.serials" | wc -l)" -eq $# ] &&
	    pass "$_name: $# distinct serials" || fail "$_name: serials not distinct"
	ledger | grep -o '"serial":"[0-9]*"' | tr -dc '0-9\n' | sort > "$T/ledger.serials"
	_missing=$(sort "$T/$_name.serials" | comm -23 - "$T/ledger.serials" | wc -l)
	[ "$_missing" -eq 0 ] && [ "$(ledger_count)" -eq $((_n0 + $#)) ] &&
	    pass "$_name: all $# serials in the ledger" ||
	    fail "$_name: $_missing serials missing from the ledger"
}

# check_issued_recorded DESC: every certificate file under $T has its
# serial in the ledger, and no temporary file is left.
check_issued_recorded() {
	ledger | grep -o '"serial":"[0-9]*"' | tr -dc '0-9\n' | sort > "$T/ledger.serials"
	_orphans=0
	for _c in $(find "$T" -name '*-cert.pub'); do
		_s=$(ssh-keygen -L -f "$_c" 2>/dev/null | awk '$1 == "Serial:" {print $2}')
		grep -qx "${_s:-none}" "$T/ledger.serials" || _orphans=$((_orphans + 1))
	done
	if [ "$_orphans" -eq 0 ] && [ -z "$(find "$T" -name '*.tmp*')" ]; then
		pass "$1: every certificate written is in the ledger, no temporary file"
	else
		fail "$1: $_orphans certificates without a ledger entry, or temporary files"
	fi
}

# crlnum CRL: its number, in hex.
crlnum() { openssl crl -in "$1" -noout -crlnumber 2>/dev/null | sed 's/^crlNumber=0x//; s/^crlNumber=//'; }

# check_crl CRL CA SKI REVOKED GOOD: the CRL verifies with the CA
# certificate, lists exactly REVOKED's serial under the CA's key identifier,
# and openssl verify -crl_check rejects REVOKED and accepts GOOD.
check_crl() {
	expect_exit 0 "the CRL verifies with ca.pem" openssl crl -in "$1" -CAfile "$2" -noout
	_rs=$(openssl x509 -in "$4" -noout -serial | sed 's/^serial=//')
	openssl crl -in "$1" -noout -text > "$T/crl.txt"
	expect_grep "Serial Number: $_rs\$" "$T/crl.txt" "the CRL lists the revoked serial"
	expect_eq "$(grep -c 'Serial Number:' "$T/crl.txt")" 1 "the CRL lists exactly one serial"
	expect_eq "$(sed -n '/Authority Key Identifier/{n;s/^ *//;p}' "$T/crl.txt")" "$3" \
	    "the CRL's AKI is the CA's SKI"
	cat "$2" "$1" > "$T/chain+crl.pem"
	openssl verify -crl_check -CAfile "$T/chain+crl.pem" "$4" > "$T/vout" 2>&1
	_rc=$?
	[ $_rc -ne 0 ] && grep -q 'certificate revoked' "$T/vout" &&
	    pass "openssl verify -crl_check: the revoked certificate is rejected (certificate revoked)" ||
	    fail "revoked certificate: verify exit $_rc: $(tr '\n' ' ' < "$T/vout")"
	openssl verify -crl_check -CAfile "$T/chain+crl.pem" "$5" > "$T/vout" 2>&1 &&
	    pass "openssl verify -crl_check: another certificate still verifies" ||
	    fail "unrevoked certificate with the CRL: $(tr '\n' ' ' < "$T/vout")"
}
