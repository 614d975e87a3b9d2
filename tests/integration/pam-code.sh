#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# pam-code.sh - code that root loads: the token helper and the PKCS#11 module
# (module=, module = in nkhsm.conf) must be root's to change, or they are not
# run; missing ones are reported as missing. The helper makes itself
# undumpable, with no core file, before it can receive a PIN.
. "${top_srcdir:-.}/tests/integration/common.sh"
pam_setup

init_token code
nk keygen --label login --id 01 --pin-source env:NK_TEST_PIN | sed -n 's/^ *ssh: *//p' > "$T/login.pub"
install -o "$PAM_USER" -m 600 "$T/login.pub" "$AUTHFILE"
export NKFAULT_MODULE="$SOFTHSM_MODULE"

# Root-owned copies in a safe directory ($T is root's, 0755, in sticky /tmp),
# and unsafe variants. The module is the fault module, whose call log shows
# whether it was ever loaded.
SAFE="$T/safe"
mkdir -m 755 "$SAFE" "$T/ww"
chmod 777 "$T/ww"
install -m 755 "$PAM_HELPER" "$SAFE/helper"
install -m 755 "$FAULT_MODULE" "$SAFE/mod.so"
ln -s mod.so "$SAFE/link.so"
for f in helper mod.so; do
	install -m 755 "$SAFE/$f" "$SAFE/ww-$f"; chmod o+w "$SAFE/ww-$f"
	install -m 775 "$SAFE/$f" "$SAFE/gw-$f"
	install -m 755 -o "$PAM_USER" "$SAFE/$f" "$SAFE/user-$f"
	install -m 755 "$SAFE/$f" "$T/ww/$f"
done
ln -s "$SAFE/mod.so" "$T/ww/link.so"
mkdir -m 755 "$SAFE/udir"
chown "$PAM_USER" "$SAFE/udir"
install -m 755 "$SAFE/mod.so" "$SAFE/udir/mod.so"

BASE="helper=$SAFE/helper conf=$T/nkhsm.conf rundir=$RUNDIR"
# auth MODULE_ARGS DESCRIPTION RESULT [MESSAGE]
auth() {
	rm -f "$T/calls.log"
	pam_service c "auth required $PAM_MOD $1"
	pam_run c authenticate "$USER_PIN\n" NKFAULT_LOG="$T/calls.log"
	expect_pam "$3" "$2"
	if [ -n "${4:-}" ]; then expect_grep "$4" "$T/pam.out" "$2: the log says '$4'"; fi
}
not_loaded() {
	[ -s "$T/calls.log" ] && fail "$1: the module was loaded" || pass "$1: the module was never loaded"
}

auth "$BASE module=$SAFE/mod.so" "root-owned helper and module in safe directories: PAM_SUCCESS" "$R_SUCCESS"
[ -s "$T/calls.log" ] && pass "the safe module was loaded" || fail "the safe module was not loaded"
auth "$BASE module=$SAFE/link.so" "a symbolic link in a safe directory to a safe module: PAM_SUCCESS" "$R_SUCCESS"

for v in ww gw user; do
	case $v in ww) why=world-writable ;; gw) why=group-writable ;; user) why="owned by uid" ;; esac
	auth "$BASE module=$SAFE/$v-mod.so" "module $why: PAM_SERVICE_ERR" "$R_SERVICE_ERR" \
	    "refusing the PKCS#11 module: .*$why"
	not_loaded "module $why"
	auth "helper=$SAFE/$v-helper conf=$T/nkhsm.conf rundir=$RUNDIR module=$SAFE/mod.so" \
	    "helper $why: PAM_SERVICE_ERR" "$R_SERVICE_ERR" "refusing the token helper: .*$why"
	not_loaded "helper $why"
done
auth "$BASE module=$T/ww/mod.so" "module in a world-writable directory: PAM_SERVICE_ERR" \
    "$R_SERVICE_ERR" "refusing the PKCS#11 module: $T/ww: is world-writable"
not_loaded "module in a world-writable directory"
auth "$BASE module=$T/ww/link.so" "a symbolic link in a world-writable directory: PAM_SERVICE_ERR" \
    "$R_SERVICE_ERR" "$T/ww: is world-writable"
not_loaded "link in a world-writable directory"
auth "$BASE module=$SAFE/udir/mod.so" "module in a directory of an ordinary user: PAM_SERVICE_ERR" \
    "$R_SERVICE_ERR" "$SAFE/udir: owned by uid"
auth "helper=$T/ww/helper conf=$T/nkhsm.conf rundir=$RUNDIR module=$SAFE/mod.so" \
    "helper in a world-writable directory: PAM_SERVICE_ERR" "$R_SERVICE_ERR" "$T/ww: is world-writable"

# Missing is missing, not "unsafe".
auth "$BASE module=$SAFE/nosuch.so" "missing module: PAM_AUTHINFO_UNAVAIL" "$R_UNAVAIL" \
    "the PKCS#11 module is missing: $SAFE/nosuch.so: no such file"
auth "helper=$SAFE/nosuch conf=$T/nkhsm.conf rundir=$RUNDIR module=$SAFE/mod.so" \
    "missing helper: PAM_AUTHINFO_UNAVAIL" "$R_UNAVAIL" "the token helper is missing: $SAFE/nosuch: no such file"
if grep -q "unsafe file ownership" "$T/pam.out"; then fail "a missing helper is called unsafe"; else pass "a missing helper is not called unsafe"; fi
auth "$BASE module=$SAFE/nodir/mod.so" "module in a missing directory: PAM_AUTHINFO_UNAVAIL" "$R_UNAVAIL" \
    "no such file at $SAFE/nodir"

# module = in nkhsm.conf gets the same checks.
printf 'module = %s\n' "$SAFE/ww-mod.so" > "$T/conf-ww"
printf 'module = %s\n' "$SAFE/mod.so" > "$T/conf-ok"
chmod 600 "$T/conf-ww" "$T/conf-ok"
auth "helper=$SAFE/helper conf=$T/conf-ww rundir=$RUNDIR" "module = (nkhsm.conf) world-writable: PAM_SERVICE_ERR" \
    "$R_SERVICE_ERR" "refusing the PKCS#11 module: $SAFE/ww-mod.so: is world-writable"
not_loaded "module = from nkhsm.conf"
auth "helper=$SAFE/helper conf=$T/conf-ok rundir=$RUNDIR" "module = (nkhsm.conf) safe: PAM_SUCCESS" "$R_SUCCESS"

# The password (PIN change) service checks them too.
pam_service pw "password required $PAM_MOD $BASE module=$SAFE/ww-mod.so"
pam_run pw chauthtok "$USER_PIN\n654321\n654321\n" NKFAULT_LOG="$T/calls.log"
expect_pam "pamtester: Error in service module" "chauthtok with an unsafe module: PAM_SERVICE_ERR"
pam_service pw "password required $PAM_MOD $BASE module=$SAFE/nosuch.so"
pam_run pw chauthtok "$USER_PIN\n654321\n654321\n"
expect_pam "$R_UNAVAIL" "chauthtok with a missing module: PAM_AUTHINFO_UNAVAIL"

# The helper, started as an ordinary user with a core limit, makes itself
# undumpable (its /proc files turn root's) with a core limit of 0 before it
# reads its first message.
python3 - "$SAFE/helper" > "$T/dump.out" 2>&1 <<'EOF'
import os, resource, socket, subprocess, sys, time
ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
fd = theirs.fileno()
def child():
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    os.dup2(fd, 3)
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
p = subprocess.Popen([sys.argv[1]], preexec_fn=child, close_fds=False,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
owner = core = None
for _ in range(200):
    try:
        owner = os.stat("/proc/%d/status" % p.pid).st_uid
        with open("/proc/%d/limits" % p.pid) as f:
            core = [l.split()[4] for l in f if l.startswith("Max core file size")][0]
        exe = os.readlink("/proc/%d/exe" % p.pid)
    except OSError:
        exe = ""
    if exe == os.path.realpath(sys.argv[1]) and owner == 0 and core == "0":
        break
    time.sleep(0.01)
print("running=%s owner=%s core=%s" % (p.poll() is None, owner, core))
ours.close()
p.wait(timeout=10)
EOF
expect_grep "running=True owner=0 core=0" "$T/dump.out" "the helper is undumpable with a core limit of 0 while it waits"
finish
