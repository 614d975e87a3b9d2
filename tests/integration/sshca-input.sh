#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# sshca-input.sh - nkhsm-sshca's strict input, end to end: control
# characters in -O values, --subject (given or from a request) and --san;
# --san parsed exactly (a newline is an error, not part of a name); a key
# file with two keys (OpenSSH lines or PEM blocks) refused naming the line;
# a validity that has ended refused; a wildcard host principal refused
# unless --allow-host-wildcard, which then issues it as given. Each refusal
# is status 2 with no certificate written and nothing in the ledger; the
# accepted forms are checked by ssh-keygen -L and openssl.
. "${top_srcdir:-.}/tests/integration/common.sh"
. "$top_srcdir/tests/integration/sshca-checks.sh"

[ -x "$SSHCA" ] || { echo "nkhsm-sshca not built"; exit 99; }
command -v ssh-keygen >/dev/null 2>&1 || { echo "skip: ssh-keygen missing"; exit 77; }
command -v openssl >/dev/null 2>&1 || { echo "skip: openssl missing"; exit 77; }

init_token ca
sc init > "$T/ca.pub" 2>/dev/null || { echo "init failed"; exit 99; }
ssh-keygen -q -t ed25519 -N '' -C k -f "$T/k" || exit 99
ssh-keygen -q -t ed25519 -N '' -C k2 -f "$T/k2" || exit 99
openssl genpkey -algorithm ed25519 -out "$T/x.key" 2>/dev/null &&
    openssl pkey -in "$T/x.key" -pubout -out "$T/x.pem" 2>/dev/null || exit 99
NL='
'
n0=$(ledger_count)
# refused DESC PATTERN CMD...: status 2, PATTERN in the message.
refused() {
	d=$1 pat=$2
	shift 2
	expect_exit 2 "$d -> 2" "$@"
	expect_grep "$pat" "$T/err" "$d: the message says why"
}

# -O values.
refused "-O force-command with a newline" "control character 0x0a" \
    sc sign --user -I o -n o -V +1h -O "force-command=ls${NL}rm -rf /" "$T/k.pub"
refused "-O force-command with an escape" "control character 0x1b" \
    sc sign --user -I o -n o -V +1h -O "force-command=ls$(printf '\033')[2J" "$T/k.pub"
refused "-O source-address with a tab" "control character 0x09" \
    sc sign --user -I o -n o -V +1h -O "source-address=10.0.0.1$(printf '\t')" "$T/k.pub"
[ -e "$T/k-cert.pub" ] && fail "-O refusals: a certificate was written"

# One key per file.
cat "$T/k.pub" "$T/k2.pub" > "$T/two.pub"
refused "a key file with two keys" "two.pub:2: a second public key" \
    sc sign --user -I t -n t -V +1h "$T/two.pub"
{ cat "$T/k.pub"; echo "# and"; echo; cat "$T/k.pub"; } > "$T/same.pub"
refused "a key file with the same key twice" "same.pub:4: a second public key" \
    sc sign --user -I t -n t -V +1h "$T/same.pub"
{ echo "# ssh-keygen"; echo; cat "$T/k.pub"; echo; } > "$T/one.pub"
expect_exit 0 "one key with comments and blank lines around it" \
    sc sign --user -I t -n t -V +1h "$T/one.pub"
openssl genpkey -algorithm ed25519 2>/dev/null | openssl pkey -pubout > "$T/y.pem" 2>/dev/null
cat "$T/x.pem" "$T/y.pem" > "$T/two.pem"
refused "x509 --pubkey with two PEM blocks" "two.pem:4: a second PEM block" \
    sc x509 --pubkey "$T/two.pem" --subject CN=two -o "$T/two.crt"
refused "revoke --key with two keys" "two.pub:2: a second public key" \
    sc revoke --key "$T/two.pub"

# Validity that has ended.
refused "-V -2h:-1h" "validity has already ended" sc sign --user -I v -n v -V -2h:-1h "$T/k2.pub"
refused "-V 20200101:20200102" "validity has already ended" \
    sc sign --user -I v -n v -V 20200101:20200102 "$T/k2.pub"
refused "-V always:20200101" "validity has already ended" \
    sc sign --user -I v -n v -V always:20200101 "$T/k2.pub"
expect_exit 0 "-V -1h:+1h (started, still running) is fine" sc sign --user -I v -n v \
    -V -1h:+1h "$T/k2.pub"

# Wildcard host principals.
for p in '*' '*.example.com' 'web?.example.com' 'web1,*.example.com'; do
	refused "--host -n '$p'" "is a pattern" sc sign --host -I h -n "$p" -V +1h "$T/k.pub"
done
[ -e "$T/k-cert.pub" ] && fail "wildcard refusals: a certificate was written"
refused "--allow-host-wildcard with --user" "applies to --host" \
    sc sign --user --allow-host-wildcard -I h -n u -V +1h "$T/k.pub"
expect_exit 0 "--host -n '*.example.com' --allow-host-wildcard" sc sign --host \
    --allow-host-wildcard -I h -n '*.example.com' -V +1h "$T/k.pub"
ssh-keygen -L -f "$T/k-cert.pub" > "$T/L" 2>&1
grep -q '^ *\*\.example\.com$' "$T/L" && grep -q 'host certificate' "$T/L" &&
    pass "ssh-keygen -L: a host certificate for *.example.com, as asked" ||
    fail "ssh-keygen -L: $(cat "$T/L")"
expect_exit 0 "a user principal with '*' is a name, not a pattern" sc sign --user \
    -I u -n 'a*b' -V +1h "$T/k2.pub"

# --subject, and a request's subject.
refused "--subject with a newline" "control characters" \
    sc x509 --pubkey "$T/x.pem" --subject "CN=a${NL}b" -o "$T/s.crt"
# A request whose CN holds a real newline (openssl -subj takes it as is).
python3 - "$T/x.key" "$T/nl.csr" <<'PY' 2>/dev/null
import subprocess, sys
subprocess.run(["openssl", "req", "-new", "-key", sys.argv[1], "-subj", "/CN=a\nb",
                "-out", sys.argv[2]], check=True, stderr=subprocess.DEVNULL)
PY
if openssl req -in "$T/nl.csr" -noout -subject 2>/dev/null | grep -q 'a.*b'; then
	refused "a request whose subject has a newline" "control character 0x0a" \
	    sc x509 --csr "$T/nl.csr" -o "$T/s.crt"
else
	fail "could not make a request with a newline in its subject"
fi

# --san, exactly.
refused "--san 'DNS:a,DNS:b<newline>IP:192.0.2.1'" "control character 0x0a at byte 12" \
    sc x509 --pubkey "$T/x.pem" --subject CN=h --profile host \
    --san "DNS:a,DNS:b${NL}IP:192.0.2.1" -o "$T/s.crt"
refused "--san with an empty item" "empty item" sc x509 --pubkey "$T/x.pem" \
    --subject CN=h --profile host --san "DNS:a,,DNS:b" -o "$T/s.crt"
refused "--san with a blank after the comma" "' DNS:b'" sc x509 --pubkey "$T/x.pem" \
    --subject CN=h --profile host --san "DNS:a, DNS:b" -o "$T/s.crt"
refused "--san DNS with a bad label" "not a valid DNS name" sc x509 --pubkey "$T/x.pem" \
    --subject CN=h --profile host --san "DNS:a..example" -o "$T/s.crt"
refused "--san IP that is not an address" "not a valid IP name" sc x509 --pubkey "$T/x.pem" \
    --subject CN=h --profile host --san "IP:192.0.2" -o "$T/s.crt"
refused "--san with a name twice" "given twice" sc x509 --pubkey "$T/x.pem" \
    --subject CN=h --profile host --san "DNS:a.example,DNS:a.example" -o "$T/s.crt"
[ -e "$T/s.crt" ] && fail "refusals: a certificate was written"
expect_exit 0 "--san exact list" sc x509 --pubkey "$T/x.pem" --subject CN=h --profile host \
    --san "DNS:a.example,DNS:*.b.example,IP:192.0.2.1,IP:2001:db8::1" -o "$T/h.crt"
openssl x509 -in "$T/h.crt" -noout -ext subjectAltName > "$T/san" 2>&1
grep -q 'DNS:a.example, DNS:\*.b.example, IP Address:192.0.2.1, IP Address:2001:DB8:0:0:0:0:0:1$' "$T/san" &&
    pass "openssl: the SAN holds exactly the four names" || fail "openssl SAN: $(cat "$T/san")"
expect_exit 0 "--san user list" sc x509 --pubkey "$T/x.pem" --subject CN=u \
    --san "email:u@example.com,UPN:u@EXAMPLE.COM" -o "$T/u.crt"
openssl x509 -in "$T/u.crt" -noout -ext subjectAltName > "$T/san" 2>&1
grep -q 'email:u@example.com, othername: UPN::u@EXAMPLE.COM$' "$T/san" &&
    pass "openssl: the user SAN holds the email and the UPN" || fail "openssl SAN: $(cat "$T/san")"
openssl verify -CAfile "$T/state/ca.pem" "$T/h.crt" "$T/u.crt" > "$T/v" 2>&1 &&
    pass "openssl verify: both certificates" || fail "openssl verify: $(cat "$T/v")"

# Only the accepted requests reached the ledger: one.pub, -V -1h:+1h, the
# wildcard host and a*b certificates, and the two X.509 certificates.
[ "$(ledger_count)" -eq $((n0 + 6)) ] && pass "the ledger holds only the 6 accepted certificates" ||
    fail "the ledger grew from $n0 to $(ledger_count), wanted +6"
expect_exit 0 "verify-log" sc verify-log

finish
