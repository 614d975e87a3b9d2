#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""run.py - the security mutation check (tests/README, "Security mutants").

Each tests/mutants/*.mutant file names one small change to the code that a
security check stands on. This script copies the tree to a private work
directory (under $TMPDIR, removed at exit), configures and builds the copy
once, checks that the tests the mutants name pass there, then applies the
mutants one at a time: rebuild (only what the change touches), run the
mutant's tests, restore the line. A mutant that no test kills survives and
fails the run, by name. So does one whose original text is not found exactly
once in its file ("not applied"), or whose change does not build. The real
tree is only read.

usage: tests/mutants/run.py [--check] [--keep] [--jobs N] [--timeout S] [NAME...]
  NAME...     only these mutants (file names without .mutant)
  --check     only check that every mutant applies and names known tests
  --keep      keep the work directory, and say where it is
  --jobs N    make -j N (default: the number of CPUs)
  --timeout S the time one mutant's tests may take (default 180); a run
              that takes longer counts as killed, and says so
Exit status: 0 when every mutant was killed, 1 otherwise, 2 on a usage or
setup error.
"""

import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
KEYS = ("file", "from", "to", "tests", "timeout")
REQUIRED = ("file", "from", "to", "tests")


class Mutant:
    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)[:-len(".mutant")]
        self.file = None
        self.orig = None
        self.repl = None
        self.tests = []
        self.timeout = None


class Fatal(Exception):
    pass


def rel(path):
    return os.path.relpath(path, TOP)


def parse(path):
    """Read one .mutant file; every mistake names the file and line."""
    m = Mutant(path)
    seen = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.strip() == "" or line.startswith("#"):
                continue
            key, sep, value = line.partition(":")
            where = "%s:%d" % (rel(path), n)
            if not sep or key not in KEYS:
                raise Fatal("%s: expected 'KEY: value' with KEY one of %s" %
                            (where, ", ".join(KEYS)))
            value = value.lstrip(" \t")
            if key in ("from", "to"):
                # Repeated from:/to: lines make a text of several lines.
                seen[key] = seen[key] + "\n" + value if key in seen else value
            elif key == "tests":
                seen[key] = seen.get(key, "") + " " + value
            elif key in seen:
                raise Fatal("%s: '%s' given twice" % (where, key))
            else:
                seen[key] = value
    for key in REQUIRED:
        if key not in seen or (key != "to" and seen[key].strip() == ""):
            raise Fatal("%s: no '%s'" % (rel(path), key))
    if "timeout" in seen:
        if not seen["timeout"].isdigit() or int(seen["timeout"]) == 0:
            raise Fatal("%s: timeout: a number of seconds" % rel(path))
        m.timeout = int(seen["timeout"])
    if seen["from"] == seen["to"]:
        raise Fatal("%s: 'to' is the same as 'from'" % rel(path))
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", m.name):
        raise Fatal("%s: name it with a-z, 0-9 and -" % rel(path))
    m.file, m.orig, m.repl = seen["file"], seen["from"], seen["to"]
    m.tests = seen["tests"].split()
    return m


def load(names):
    paths = sorted(glob.glob(os.path.join(HERE, "*.mutant")))
    mutants = [parse(p) for p in paths]
    if not mutants:
        raise Fatal("no mutants in %s" % rel(HERE))
    if names:
        known = {m.name: m for m in mutants}
        for n in names:
            if n not in known:
                raise Fatal("no mutant named '%s' (see --check for the list)" % n)
        mutants = [known[n] for n in names]
    return mutants


def applies(tree, m):
    """None when the original text occurs exactly once, else why not."""
    path = os.path.join(tree, m.file)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        return "cannot read %s: %s" % (m.file, e.strerror)
    n = text.count(m.orig)
    if n != 1:
        return "its text is found %d times in %s, not once" % (n, m.file)
    return None


def known_tests():
    """Every test some local.mk names (for --check, without a build)."""
    words = set()
    for mk in glob.glob(os.path.join(TOP, "**", "local.mk"), recursive=True):
        with open(mk, encoding="utf-8") as f:
            words.update(re.findall(r"[\w./-]+", f.read()))
    return words


def copy_tree(dst):
    """The working tree as git sees it (tracked and new files), else all of it."""
    os.makedirs(dst)
    git = subprocess.run(["git", "-C", TOP, "ls-files", "-z", "--cached", "--others",
                          "--exclude-standard"], capture_output=True)
    if git.returncode == 0:
        for name in git.stdout.decode().split("\0"):
            src = os.path.join(TOP, name)
            if name == "" or not os.path.lexists(src):
                continue  # deleted in the working tree
            os.makedirs(os.path.dirname(os.path.join(dst, name)), exist_ok=True)
            shutil.copy2(src, os.path.join(dst, name), follow_symlinks=False)
        return
    ignore = shutil.ignore_patterns(".git", "build", "build-*", "autom4te.cache")
    shutil.rmtree(dst)
    shutil.copytree(TOP, dst, symlinks=True, ignore=ignore)


def run(cmd, cwd, log, timeout=None, env=None):
    """Run cmd in its own process group, output to log; None on timeout."""
    with open(log, "ab") as out:
        p = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True, env=env)
        try:
            return p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # The tests' traps clean up on TERM (users, temporary dirs).
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            return None


def results(build, tests):
    """test -> PASS, FAIL, ERROR, SKIP or NONE (did not finish)."""
    out = {}
    for t in tests:
        out[t] = "NONE"
        try:
            with open(os.path.join(build, t + ".trs"), encoding="utf-8") as f:
                m = re.search(r"^:test-result: (\w+)", f.read(), re.M)
                if m:
                    out[t] = m.group(1)
        except OSError:
            pass
    return out


def check_tests(build, tests, jobs, timeout, log, tmp):
    for t in tests:
        for ext in (".log", ".trs"):
            try:
                os.unlink(os.path.join(build, t + ext))
            except FileNotFoundError:
                pass
    env = dict(os.environ, TMPDIR=tmp)
    # The emulated card kit beside the real tree, as tools/test.sh finds it,
    # for card tests (the copy has no ../shared beside it).
    kit = os.path.join(os.path.dirname(TOP), "shared", "schsm-emu", "schsm-emu")
    if "SCHSM_EMU" not in env and os.access(kit, os.X_OK):
        env["SCHSM_EMU"] = kit
    rc = run(["make", "-j%d" % jobs, "check", "TESTS=" + " ".join(tests)], build, log,
             timeout, env)
    return rc, results(build, tests)


def short(t):
    return os.path.basename(t)


class Runner:
    def __init__(self, args):
        self.jobs = args["jobs"]
        self.timeout = args["timeout"]
        self.work = tempfile.mkdtemp(prefix="nkhsm-mutants.", dir=os.environ.get("TMPDIR"))
        # The tests' own temporary files go in here too, and with it at exit;
        # the test users must reach their homes below it, as in /tmp.
        os.chmod(self.work, 0o755)
        self.tmp = os.path.join(self.work, "tmp")
        os.mkdir(self.tmp)
        os.chmod(self.tmp, 0o1777)
        self.src = os.path.join(self.work, "src")
        self.build = os.path.join(self.src, "build")
        self.log = os.path.join(self.work, "log")

    def step(self, what, cmd, cwd):
        if run(cmd, cwd, self.log) != 0:
            tail(self.log)
            raise Fatal("%s failed (the log is above)" % what)

    def setup(self, mutants):
        t0 = time.time()
        copy_tree(self.src)
        self.step("autogen.sh", ["./autogen.sh"], self.src)
        os.makedirs(self.build)
        self.step("configure", ["../configure"], self.build)
        self.step("the build", ["make", "-j%d" % self.jobs, "check", "TESTS="], self.build)
        listed = subprocess.run(["make", "-s", "print-tests"], cwd=self.build,
                                capture_output=True, text=True).stdout.split()
        for m in mutants:
            for t in m.tests:
                if t not in listed:
                    raise Fatal("%s: '%s' is not a test of make check" % (rel(m.path), t))
        print("setup: copy, autogen, configure, build: %d s (in %s)" %
              (time.time() - t0, self.work), flush=True)

    def baseline(self, mutants):
        tests = sorted({t for m in mutants for t in m.tests})
        t0 = time.time()
        rc, res = check_tests(self.build, tests, self.jobs, self.timeout * 2, self.log,
                              self.tmp)
        bad = [t for t in tests if res[t] != "PASS"]
        if rc != 0 or bad:
            for t in bad or tests:
                print("---- %s.log" % t)
                tail(os.path.join(self.build, t + ".log"), 20)
            raise Fatal("without any mutant these tests do not pass: %s" %
                        " ".join("%s (%s)" % (short(t), res[t]) for t in bad or tests))
        print("baseline: the %d tests the mutants name pass without them: %d s" %
              (len(tests), time.time() - t0), flush=True)

    def one(self, m):
        """Apply, build, test, restore. Returns (verdict, detail)."""
        why = applies(self.src, m)
        if why is not None:
            return "NOT APPLIED", why
        path = os.path.join(self.src, m.file)
        with open(path, encoding="utf-8") as f:
            clean = f.read()
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(clean.replace(m.orig, m.repl, 1))
            if run(["make", "-j%d" % self.jobs, "check", "TESTS="], self.build, self.log) != 0:
                tail(self.log)
                return "DOES NOT BUILD", "the mutated %s does not compile (log above)" % m.file
            limit = m.timeout or self.timeout
            rc, res = check_tests(self.build, m.tests, self.jobs, limit, self.log, self.tmp)
        finally:
            with open(path, "w", encoding="utf-8") as f:
                f.write(clean)
            # A new mtime, so the next build compiles the clean file again.
            os.utime(path, None)
        if rc is None:
            done = [short(t) for t in m.tests if res[t] in ("FAIL", "ERROR")]
            return "killed", "%s timed out after %d s%s" % (
                " ".join(short(t) for t in m.tests if res[t] == "NONE"), limit,
                "; failed: " + " ".join(done) if done else "")
        killers = [short(t) for t in m.tests if res[t] in ("FAIL", "ERROR")]
        if killers:
            others = [short(t) for t in m.tests if short(t) not in killers]
            return "killed", "by " + " ".join(killers) + (
                " (not by " + " ".join(others) + ")" if others else "")
        skipped = [short(t) for t in m.tests if res[t] == "SKIP"]
        return "SURVIVED", "its tests pass: %s%s" % (
            " ".join(short(t) for t in m.tests), "; skipped: " + " ".join(skipped)
            if skipped else "")


def tail(log, n=40):
    try:
        with open(log, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
    except OSError:
        return
    sys.stdout.write("".join("  | " + l for l in lines[-n:]))


def check_only(mutants):
    known = known_tests()
    bad = 0
    for m in mutants:
        why = applies(TOP, m)
        missing = [t for t in m.tests if t not in known]
        if missing:
            why = (why + "; " if why else "") + "unknown tests: " + " ".join(missing)
        print("%-24s %-26s %s" % (m.name, m.file, "NOT APPLIED: " + why if why else
                                  "applies; tests: " + " ".join(short(t) for t in m.tests)))
        bad += why is not None
    print("mutants: %d listed, %d not applied" % (len(mutants), bad))
    return 1 if bad else 0


def parse_args(argv):
    args = {"check": False, "keep": False, "jobs": os.cpu_count() or 2, "timeout": 180,
            "names": []}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--check", "--keep"):
            args[a[2:]] = True
        elif a in ("--jobs", "--timeout") and i + 1 < len(argv) and argv[i + 1].isdigit() \
                and int(argv[i + 1]) > 0:
            args[a[2:]] = int(argv[i + 1])
            i += 1
        elif a in ("-h", "--help"):
            print(__doc__.strip())
            sys.exit(0)
        elif a.startswith("-"):
            raise Fatal("unknown option '%s' (see --help)" % a)
        else:
            args["names"].append(a)
        i += 1
    return args


def main(argv):
    args = parse_args(argv)
    mutants = load(args["names"])
    if args["check"]:
        return check_only(mutants)
    # Fail before minutes of building when a mutant no longer applies.
    stale = [(m, applies(TOP, m)) for m in mutants]
    stale = [(m, w) for m, w in stale if w is not None]
    for m, why in stale:
        print("mutant %s: NOT APPLIED: %s (%s)" % (m.name, why, rel(m.path)))
    if stale:
        print("mutants: %d not applied; update tests/mutants/ to the code" % len(stale))
        return 1
    r = Runner(args)
    t0 = time.time()
    try:
        print("mutants: %d, work copy %s" % (len(mutants), r.work), flush=True)
        r.setup(mutants)
        r.baseline(mutants)
        bad = []
        for i, m in enumerate(mutants, 1):
            t1 = time.time()
            verdict, detail = r.one(m)
            print("[%2d/%d] %-24s %-14s %4d s  %s" % (i, len(mutants), m.name, verdict,
                                                     time.time() - t1, detail), flush=True)
            if verdict != "killed":
                bad.append("%s (%s)" % (m.name, verdict.lower()))
        print("mutants: %d killed, %d not: %s; %d s in all" % (
            len(mutants) - len(bad), len(bad), ", ".join(bad) if bad else "none",
            time.time() - t0))
        return 1 if bad else 0
    finally:
        if args["keep"]:
            print("kept: %s" % r.work)
        else:
            shutil.rmtree(r.work, ignore_errors=True)


def on_term(signo, frame):
    raise KeyboardInterrupt  # the work directory is removed on the way out


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_term)
    try:
        sys.exit(main(sys.argv[1:]))
    except Fatal as e:
        print("mutants: %s" % e, file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
