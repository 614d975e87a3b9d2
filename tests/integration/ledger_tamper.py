#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# ledger_tamper.py STATE SCRATCH CMD... - change every column of every row
# of every table of STATE/ledger.db, one at a time, in a copy at
# SCRATCH/ledger.db, and run CMD (nkhsm-sshca ... --state SCRATCH
# verify-log) on each copy. The tables and columns are read from the
# database's own schema, so a column added later is changed too. Each
# change must make CMD fail and name what changed:
#   certs        the serial and the column (log_seq: "log_seq" or the
#                entry's other serial; revoked_at: "(revoked_at)");
#   revocations  the revocation and the column, or "is not in the log"
#                when what or value changed;
#   meta         the setting, or the log head, count or format;
#   log          the entry ("log entry N").
# Then each row is deleted, one at a time: that must fail too.
# Prints one "FAIL ..." line per undetected change and a summary line
# "changes N detected M"; exits 0 only when M == N.
import os
import shutil
import sqlite3
import subprocess
import sys


def mutate(value, column, table):
    if value is None:
        return b"\0" if column == "cert" else (
            12345 if column in ("revoked_at", "at") else "tampered")
    if isinstance(value, int):
        # Far away: a neighbour's seq would collide with the primary key.
        return value + (1000000 if table == "log" and column == "seq" else 1)
    if isinstance(value, bytes):
        return value + b"\0"
    return value + "x"


def wanted(table, column, row, cols, status, err):
    """Whether the failure names what changed."""
    rec = dict(zip(cols, row))
    if table == "meta":
        if rec["k"] == "log_format":
            return status == 2 and "format" in err
        return status == 13 and (rec["k"] in err or "log" in err)
    if status != 13:
        return False
    if table == "log":
        return "log entry" in err
    if table == "certs":
        names = [column + " differs"]
        if column in ("serial", "log_seq"):
            names.append("serial or log_seq changed")
        if column == "revoked_at":
            names.append("(revoked_at)")
        serial = rec["serial"] + ("x" if column == "serial" else "")
        return serial in err and any(n in err for n in names)
    if table == "revocations":
        if column in ("what", "value"):
            return "is not in the log" in err
        return rec["value"] in err and column + " differs" in err
    return column + " differs" in err


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stderr.decode(errors="replace")


def main():
    state, scratch, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
    src = os.path.join(state, "ledger.db")
    dst = os.path.join(scratch, "ledger.db")
    db = sqlite3.connect(src)
    tables = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    plan = []
    for t in tables:
        cols = [r[1] for r in db.execute("PRAGMA table_info(%s)" % t)]
        for rowid, *row in db.execute("SELECT rowid, * FROM %s" % t):
            for c, v in zip(cols, row):
                plan.append((t, cols, rowid, row, c, v))
            plan.append((t, cols, rowid, row, None, None))
    db.close()
    n = detected = 0
    per = {}
    for t, cols, rowid, row, c, v in plan:
        shutil.copyfile(src, dst)
        w = sqlite3.connect(dst)
        # What an attacker with the file can do: constraints are no bar.
        w.execute("PRAGMA ignore_check_constraints=ON")
        if c is None:
            w.execute("DELETE FROM %s WHERE rowid=?" % t, (rowid,))
        else:
            w.execute("UPDATE %s SET %s=? WHERE rowid=?" % (t, c),
                      (mutate(v, c, t), rowid))
        w.commit()
        w.close()
        status, err = run(cmd)
        n += 1
        what = "%s.%s" % (t, c if c is not None else "(row deleted)")
        ok = wanted(t, c or "", row, cols, status, err) if c is not None \
            else status in (2, 13)
        per.setdefault(what, [0, 0])
        per[what][0] += 1
        if ok:
            detected += 1
            per[what][1] += 1
        else:
            print("FAIL %s, row %d: exit %d: %s" % (what, rowid, status,
                                                    err.strip()[:300]))
    for what in sorted(per):
        print("# %-28s %d/%d detected" % (what, per[what][1], per[what][0]))
    print("changes %d detected %d" % (n, detected))
    sys.exit(0 if n == detected and n > 0 else 1)


if __name__ == "__main__":
    main()
