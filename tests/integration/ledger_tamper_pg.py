#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# ledger_tamper_pg.py PSQL SOCKETDIR USER DB CMD... - ledger_tamper.py's
# matrix on a PostgreSQL ledger: every column of every row of every table
# of DB (read from the database's own catalogue) changed, one at a time,
# and each row deleted, one at a time; CMD (nkhsm-sshca ... verify-log)
# must fail on each and name what changed (ledger_tamper.wanted). What an
# attacker with the database's superuser can do: the CHECK constraints are
# dropped first. Each change is made in one transaction, CMD is run, and
# the row is put back from a saved copy in another (rows are told apart by
# a column this script adds, which the ledger's queries never read). At
# the end the database must be as it was, and CMD must pass on it.
# Prints "# table.column detected/total" lines, "FAIL ..." per undetected
# change and "changes N detected M"; exits 0 only when all are detected.
import hashlib
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ledger_tamper import wanted  # noqa: E402

ROWID = "tamper_rowid"


class Psql:
    def __init__(self, psql, host, user, db):
        self.base = [psql, "-h", host, "-U", user, "-d", db, "-X", "-q", "-A",
                     "-t", "-v", "ON_ERROR_STOP=1"]

    def run(self, sql):
        p = subprocess.run(self.base + ["-c", sql], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        if p.returncode != 0:
            sys.exit("psql: %s: %s" % (sql[:120], p.stderr.decode()))
        return [line for line in p.stdout.decode().split("\n") if line]


def ident(name):
    return '"' + name.replace('"', '""') + '"'


def literal(value):
    return "'" + value.replace("'", "''") + "'"


def mutation(column, dtype, table, value):
    """The changed value as an SQL expression, as ledger_tamper.mutate."""
    c = ident(column)
    if value is None:
        return {"bytea": "'\\x00'::bytea", "bigint": "12345"}.get(dtype, "'tampered'")
    if dtype == "bigint":
        # Far away: a neighbour's seq would collide with the primary key.
        return "%s + %d" % (c, 1000000 if table == "log" and column == "seq" else 1)
    if dtype == "bytea":
        return "%s || '\\x00'::bytea" % c
    return "%s || 'x'" % c


def snapshot(db, tables):
    h = hashlib.sha256()
    for t in tables:
        for line in db.run("SELECT row_to_json(r)::text FROM %s r ORDER BY %s"
                           % (ident(t), ROWID)):
            h.update(line.encode() + b"\n")
    return h.hexdigest()


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stderr.decode(errors="replace")


def main():
    db = Psql(*sys.argv[1:5])
    cmd = sys.argv[5:]
    tables = db.run("SELECT tablename FROM pg_tables WHERE schemaname = "
                    "'public' ORDER BY 1")
    cols = {}
    for t in tables:
        cols[t] = [tuple(r.split("|")) for r in db.run(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s "
            "ORDER BY ordinal_position" % literal(t))]
    for line in db.run("SELECT conrelid::regclass::text || '|' || conname "
                       "FROM pg_constraint WHERE contype = 'c' AND "
                       "connamespace = 'public'::regnamespace"):
        t, name = line.split("|", 1)
        db.run("ALTER TABLE %s DROP CONSTRAINT %s" % (ident(t), ident(name)))
    db.run("CREATE SCHEMA IF NOT EXISTS tamper")
    for t in tables:
        db.run("ALTER TABLE %s ADD COLUMN %s bigserial" % (ident(t), ROWID))
    before = snapshot(db, tables)
    plan = []
    for t in tables:
        names = [c for c, _ in cols[t]]
        for line in db.run("SELECT %s, row_to_json(r)::text FROM %s r ORDER BY %s"
                           % (ROWID, ident(t), ROWID)):
            rowid, js = line.split("|", 1)
            rec = json.loads(js)
            row = tuple(rec[c] for c in names)
            for c, dtype in cols[t]:
                plan.append((t, names, int(rowid), row, c, dtype, rec[c]))
            plan.append((t, names, int(rowid), row, None, None, None))
    n = detected = 0
    per = {}
    for t, names, rowid, row, c, dtype, v in plan:
        where = "WHERE %s = %d" % (ROWID, rowid)
        change = ("DELETE FROM %s %s" % (ident(t), where) if c is None else
                  "UPDATE %s SET %s = %s %s" % (ident(t), ident(c),
                                               mutation(c, dtype, t, v), where))
        db.run("BEGIN; CREATE TABLE tamper.saved AS SELECT * FROM %s %s; %s; "
               "COMMIT" % (ident(t), where, change))
        status, err = run(cmd)
        db.run("BEGIN; DELETE FROM %s %s; INSERT INTO %s SELECT * FROM "
               "tamper.saved; DROP TABLE tamper.saved; COMMIT"
               % (ident(t), where, ident(t)))
        n += 1
        what = "%s.%s" % (t, c if c is not None else "(row deleted)")
        ok = wanted(t, c or "", row, names, status, err) if c is not None \
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
    restored = snapshot(db, tables) == before
    status, err = run(cmd)
    print("# restored: %s; the untouched ledger: exit %d" %
          ("yes" if restored else "NO", status))
    print("changes %d detected %d" % (n, detected))
    sys.exit(0 if n == detected and n > 0 and restored and status == 0 else 1)


if __name__ == "__main__":
    main()
