#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# tool-doctor.sh - nkhsm-tool doctor on SoftHSM and a system under --root:
# a healthy setup passes (exit 0, pcscd's absence only a warning while the
# module sees a token), and each failure it claims to detect is reported
# with its fix and exit 1: no pcscd and no token, a missing module or one
# that does not load, a locked PIN (the fault module's flags; a final try
# is a warning), the udev rule and unit missing (warnings), the helper
# unsafe or missing, a PAM stack with an option pam_nkhsm refuses, no
# stack at all, authorized keys malformed, unsafe, missing or not on the
# token (and authfile= of the stack is the file checked), a bad nkhsm.conf
# and a bad hotplug.conf; a module call that hangs ends at --timeout.
# Usage errors exit 2. Needs root: the files must be root's.
. "${top_srcdir:-.}/tests/integration/common.sh"
. "$top_srcdir/tests/integration/doctor-common.sh"
pam_setup

# No pcscd: the machine's, if any, must not matter.
PCSCLITE_CSOCK_NAME="$T/no-pcscd"
export PCSCLITE_CSOCK_NAME
init_token doc
nk keygen --curve p256 --label login --id 01 --pin-source env:NK_TEST_PIN > "$T/kg" ||
    { fail "keygen"; finish; }
nk pubkey 'pkcs11:object=login' > "$T/login.pub"
install -o "$PAM_USER" -m 600 "$T/login.pub" "$AUTHFILE"
doctor_root "$SOFTHSM_MODULE"

doc $D --user "$PAM_USER"
dexit 0 "a healthy setup: exit 0"
dcheck pam ok "pam_nkhsm is in 2 stacks: sshd (auth), sshd (session)" "the stacks that use pam_nkhsm"
dcheck pam-stack ok "sshd:1: auth pam_nkhsm.so, options valid" "each stack's options are valid"
dcheck pam-module ok "root's, not writable by others" "pam_nkhsm.so installed safely"
dcheck helper ok "executable" "the helper installed safely"
dcheck authfile ok "$AUTHFILE: 1 key, safe as pam_nkhsm requires" "the user's authorized keys"
dcheck keys ok "the key on line 1 of $AUTHFILE is on token 'doc' (id 01)" "the user's key is on the token"
dcheck token ok "the module sees 1 token: 'doc'" "the module sees the token"
dcheck pin ok "token 'doc'" "the PIN is not locked"
dcheck udev-rule ok "root's" "the udev rule installed"
dcheck unit ok "root's" "the systemd unit installed"
dcheck hotplug-conf ok "not there" "no hotplug.conf: the defaults"
# Where this build reads hotplug.conf (its sysconfdir, under --root).
HPCONF=$(dpath hotplug-conf)
dcheck pcscd warning "(the module sees a token without it)" \
    "no pcscd, but the token works: only a warning"
$TOOL doctor $D > "$T/human" 2>&1
expect_grep '^\[warn\] pcscd: pcscd is not reachable' "$T/human" "human output: one line per check"
expect_grep '^       fix: install and start it' "$T/human" "human output: the fix under it"
expect_grep '^[0-9]* ok, 1 warning, 0 failures$' "$T/human" "human output: the counts"

# No pcscd and no token.
mkdir -p "$T/empty"
printf 'directories.tokendir = %s/empty\nobjectstore.backend = file\n' "$T" > "$T/empty.conf"
SOFTHSM2_CONF="$T/empty.conf" doc $D
dexit 1 "no token: exit 1"
dcheck token failure "the module sees no token" "no token: a failure"
dcheck pcscd failure "pcscd is not reachable" "no pcscd and no token: a failure"

doc --root "$R" --config "$T/nkhsm.conf" --module "$T/nowhere/opensc-pkcs11.so"
dexit 1 "a missing module: exit 1"
dcheck module failure "the PKCS#11 module $T/nowhere/opensc-pkcs11.so: No such file or directory" \
    "a missing module"
printf 'not a shared object\n' > "$T/notamodule.so"
doc --root "$R" --config "$T/nkhsm.conf" --module "$T/notamodule.so"
dexit 1 "a module that does not load: exit 1"
dcheck module failure "$T/notamodule.so does not load" "a file that is not a PKCS#11 module"
expect_grep "ldd shows what it lacks" "$T/doc.json" "a module that does not load: what to look at"
printf 'module = %s/nowhere/x.so\n' "$T" > "$T/mod.conf"
chmod 600 "$T/mod.conf"
doc --root "$R" --config "$T/mod.conf"
dcheck module failure "$T/nowhere/x.so" "the module nkhsm.conf names is the one checked"

FD="--root $R --config $T/nkhsm.conf --module $FAULT_MODULE"
NKFAULT_MODULE="$SOFTHSM_MODULE" NKFAULT_FLAGS=locked doc $FD
dexit 1 "a locked PIN: exit 1"
dcheck pin failure "token 'doc' (serial" "a locked PIN: a failure"
expect_grep "unblock it with the SO PIN" "$T/doc.json" "a locked PIN: how to unblock it"
NKFAULT_MODULE="$SOFTHSM_MODULE" NKFAULT_FLAGS=final_try doc $FD
dexit 0 "the final try: exit 0"
dcheck pin warning "1 PIN try left before the PIN locks" "the final try: a warning"

# --timeout bounds each step of the token checks: a module call that never
# returns (the fault module's hang) is a failure that says where the checks
# stopped, with what was found before it; 0 is no limit.
_t0=$(date +%s)
NKFAULT_MODULE="$SOFTHSM_MODULE" NKFAULT_HANG_FN=C_GetSlotList doc $FD --timeout 2
_s=$(($(date +%s) - _t0))
dexit 1 "a hung module call: exit 1"
dcheck token failure "got no answer within 2s (--timeout)" "a hung call: the checks end at --timeout"
dcheck token failure "(after: module)" "... and say where they stopped"
dcheck module ok "loads" "a hung call: what was found before it is reported"
[ $_s -le 20 ] && pass "a hung call: doctor ended after $_s s" ||
    fail "a hung call: doctor took $_s s"
doc $D --timeout 0
dexit 0 "--timeout 0: no limit, and a healthy setup still passes"
dcheck token ok "the module sees 1 token" "--timeout 0: the token checks ran"

rm "$RULE" "$UNIT"
doc $D
dexit 0 "udev rule and unit missing: warnings, exit 0"
dcheck udev-rule warning "is not installed: pulling a Nitrokey HSM locks nothing" "the udev rule missing"
dcheck unit warning "is not installed: the udev rule starts nothing" "the unit missing"
mkdir -p "$R/etc/udev/rules.d"
chmod 755 "$R/etc/udev" "$R/etc/udev/rules.d"
install -m 666 "$top_srcdir/udev/70-nkhsm.rules" "$R/etc/udev/rules.d/70-nkhsm.rules"
doc $D
dcheck udev-rule failure "-writable" "an administrator's rule writable by others"

chmod 777 "$HELPER"
doc $D
dexit 1 "an unsafe helper: exit 1"
dcheck helper failure "-writable" "a helper writable by others"
chmod 755 "$HELPER"
chown nobody "$HELPER"
doc $D
dcheck helper failure "owned by uid" "a helper that is not root's"
rm "$HELPER"
doc $D
dcheck helper failure "is missing" "a missing helper"
install -m 755 "$PAM_HELPER" "$HELPER.real"
ln -s "$HELPER.real" "$HELPER"
doc $D
dcheck helper ok "root's, not writable by others" "a helper behind a symbolic link, as pam_nkhsm takes it"
rm "$HELPER"
mv "$HELPER.real" "$HELPER"
chmod 644 "$HELPER"
doc $D
dcheck helper failure "not executable" "a helper that is not executable"
chmod 755 "$HELPER"

printf 'auth required pam_nkhsm.so wiat=10\n' > "$R/etc/pam.d/login"
doc $D
dexit 1 "a stack pam_nkhsm refuses: exit 1"
dcheck pam-stack failure "login:1: auth pam_nkhsm.so: unknown option 'wiat'" \
    "a stack with an unknown option, by file and line"
rm "$R/etc/pam.d/login" "$R/etc/pam.d/sshd"
doc $D
dcheck pam warning "no PAM service in $R/etc/pam.d uses pam_nkhsm" "no stack uses pam_nkhsm"
printf 'auth required pam_nkhsm.so\n' > "$R/etc/pam.d/sshd"

# Authorized keys, as pam_nkhsm checks them.
cp "$AUTHFILE" "$T/good"
printf 'ecdsa-sha2-nistp256 AAAA!!!notbase64 broken\n' >> "$AUTHFILE"
doc $D --user "$PAM_USER"
dexit 1 "a malformed authorized keys file: exit 1"
dcheck authfile failure "authorized_keys:2:" "a malformed line, by file and line"
install -o "$PAM_USER" -m 666 "$T/good" "$AUTHFILE"
doc $D --user "$PAM_USER"
dcheck authfile failure "writable" "an authorized keys file writable by others"
rm "$AUTHFILE"
doc $D --user "$PAM_USER"
dcheck authfile failure "does not exist: $PAM_USER cannot log in with a token" "no authorized keys file"
ssh-keygen -q -t ecdsa -b 256 -N '' -f "$T/other" > /dev/null
install -o "$PAM_USER" -m 600 "$T/other.pub" "$AUTHFILE"
doc $D --user "$PAM_USER"
dexit 1 "keys not on the token: exit 1"
dcheck keys failure "none of the 1 key authorized for $PAM_USER is on a token the module sees" \
    "no authorized key is on the token"
printf 'auth required pam_nkhsm.so authfile=%%h/.nk_keys\n' > "$R/etc/pam.d/sshd"
install -o "$PAM_USER" -m 600 "$T/login.pub" "$HOME_DIR/.nk_keys"
doc $D --user "$PAM_USER"
dcheck keys ok "of $HOME_DIR/.nk_keys is on token 'doc'" "the stack's authfile= is the file checked"

# nkhsm.conf and hotplug.conf, as their readers load them.
printf 'modul = x\n' > "$T/bad.conf"
chmod 600 "$T/bad.conf"
doc --root "$R" --config "$T/bad.conf" --module "$SOFTHSM_MODULE"
dexit 1 "a bad nkhsm.conf: exit 1"
dcheck config failure "bad.conf:1:" "a bad nkhsm.conf, by file and line"
mkdir -p "$(dirname "$HPCONF")"
find "$R" -type d -exec chmod 755 {} +
printf 'on_remove = lock-everything\n' > "$HPCONF"
chmod 600 "$HPCONF"
doc $D
dcheck hotplug-conf failure "hotplug.conf:1:" "a bad hotplug.conf, by file and line"
rm "$HPCONF"

expect_exit 2 "an unknown user is a usage error" "$TOOL" doctor --user nosuchuser$$
expect_exit 2 "--timeout past 86400 is a usage error" "$TOOL" doctor --timeout 86401
expect_exit 2 "a relative --root is a usage error" "$TOOL" doctor --root etc
expect_exit 2 "doctor takes no other command's option" "$TOOL" doctor --curve p256
expect_exit 2 "doctor takes no argument" "$TOOL" doctor extra
finish
