#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""testbed.py - a umockdev testbed driven by a small script, for the
nkhsm-hotplug tests. Run it under umockdev-wrapper:

    umockdev-wrapper python3 testbed.py SCRIPT LOG -- PROGRAM ARGS...

PROGRAM (nkhsm-hotplug --monitor) runs inside the testbed with its stderr
appended to LOG. Script lines (shell-like words; \\n, \\x3b escapes allowed):

    dev NAME SUBSYSTEM DEVTYPE PRODUCT SERIAL [ATTR_SERIAL]
                        a device; emits "add" ("-": no such property)
    start               start PROGRAM, wait for "monitoring" in LOG
    uevent NAME ACTION  one uevent
    unplug NAME         "remove" uevent, then the device leaves sysfs
    burst NAME COUNT ACK
                        COUNT times "add" then "remove", in groups of four
                        acknowledged by ACK lines in LOG
    wait-log N TEXT     until LOG holds TEXT at least N times (10 s)
    sleep SECONDS
    stamp LABEL         print "stamp LABEL <unix time>" on stdout
    signal NAME         send SIGNAME to PROGRAM
    run ARGS...         run ARGS inside the testbed, wait, print its status
    stop                SIGTERM PROGRAM and wait for it

Exit status: 0, or 1 when a wait timed out or PROGRAM died on its own.
"""

import codecs
import ctypes
import os
import shlex
import signal
import subprocess
import sys
import time

import gi

gi.require_version('UMockdev', '1.0')
from gi.repository import UMockdev  # noqa: E402


def unescape(word):
    return codecs.decode(word, 'unicode_escape')


def die_with_parent():
    # If this testbed dies (umockdev aborts when its uevent queue is full),
    # the program under test must not live on as an orphan.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def log_count(path, text):
    try:
        with open(path, 'rb') as f:
            return f.read().count(text.encode())
    except OSError:
        return 0


def main():
    if len(sys.argv) < 5 or sys.argv[3] != '--':
        sys.stderr.write(__doc__)
        return 2
    script, log = sys.argv[1], sys.argv[2]
    program = sys.argv[4:]
    tb = UMockdev.Testbed.new()
    # Children inherit the testbed through the C environment.
    os.environ['UMOCKDEV_DIR'] = tb.get_root_dir()
    devs = {}
    proc = None
    status = 0
    with open(script) as f:
        lines = f.read().splitlines()
    try:
        for line in lines:
            words = shlex.split(line, comments=True)
            if not words:
                continue
            cmd, args = words[0], [unescape(w) for w in words[1:]]
            if cmd == 'dev':
                name, subsystem, devtype, product, serial = args[:5]
                attrs = []
                if len(args) > 5 and args[5] != '-':
                    attrs = ['serial', args[5]]
                props = []
                if devtype != '-':
                    props += ['DEVTYPE', devtype]
                if product != '-':
                    props += ['PRODUCT', product]
                if serial != '-':
                    props += ['ID_SERIAL_SHORT', serial]
                devs[name] = tb.add_device(subsystem, name, None, attrs,
                                           props)
            elif cmd == 'start':
                logf = open(log, 'ab')
                proc = subprocess.Popen(program, stderr=logf,
                                        stdout=logf,
                                        preexec_fn=die_with_parent)
                logf.close()
                deadline = time.time() + 10
                while log_count(log, 'monitoring') < 1:
                    if proc.poll() is not None or time.time() > deadline:
                        print('testbed: program did not start')
                        return 1
                    time.sleep(0.02)
            elif cmd == 'uevent':
                tb.uevent(devs[args[0]], args[1])
            elif cmd == 'unplug':
                tb.uevent(devs[args[0]], 'remove')
                tb.remove_device(devs.pop(args[0]))
            elif cmd == 'burst':
                # umockdev's uevent socket holds net.unix.max_dgram_qlen
                # (often 10) datagrams and aborts the sender when it is
                # full, where the kernel's netlink queue holds thousands.
                # So send 4 pairs at a time, then wait until the program
                # logged ACK (one line per removal) for all sent so far.
                count, ack = int(args[1]), args[2]
                base = log_count(log, ack)
                for i in range(count):
                    tb.uevent(devs[args[0]], 'add')
                    tb.uevent(devs[args[0]], 'remove')
                    if i % 4 != 3 and i != count - 1:
                        continue
                    deadline = time.time() + 10
                    while log_count(log, ack) < base + i + 1:
                        if time.time() > deadline:
                            print('testbed: burst stalled at %d' % i)
                            return 1
                        time.sleep(0.0002)
            elif cmd == 'wait-log':
                want, text = int(args[0]), args[1]
                deadline = time.time() + 10
                while log_count(log, text) < want:
                    if time.time() > deadline:
                        print('testbed: timed out waiting for %d x %r'
                              % (want, text))
                        status = 1
                        break
                    time.sleep(0.01)
            elif cmd == 'sleep':
                time.sleep(float(args[0]))
            elif cmd == 'stamp':
                print('stamp %s %.6f' % (args[0], time.time()), flush=True)
            elif cmd == 'signal':
                proc.send_signal(getattr(signal, 'SIG' + args[0]))
            elif cmd == 'run':
                rc = subprocess.call(args)
                print('run %s: %d' % (args[0], rc), flush=True)
            elif cmd == 'stop':
                if proc.poll() is not None:
                    print('testbed: program exited early (%d)'
                          % proc.returncode)
                    status = 1
                else:
                    proc.terminate()
                    try:
                        proc.wait(10)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
                        status = 1
                proc = None
            else:
                print('testbed: unknown command %r' % cmd)
                return 2
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
    return status


if __name__ == '__main__':
    sys.exit(main())
