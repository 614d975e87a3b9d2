#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""rulecheck.py - parse a udev rules file and evaluate it for one event.

    rulecheck.py RULES [KEY=VALUE...]

KEY is ACTION, SUBSYSTEM, KERNEL, DEVPATH or a property (DEVTYPE, PRODUCT,
...). The file is parsed with udev's grammar (udev(7): comma-separated
KEY[{attr}] OP "value" entries, '#' comments, '\\' continuations, LABEL and
GOTO); an unknown key, a bad operator, a match operator used to assign or
an unquoted value is an error (exit 2). Then the rules run against the
event and what they did is printed:

    keys: KEY...            every key the file matches on (sorted)
    tag: NAME               for each tag added
    env: NAME=VALUE         for each property the rules set
    run: PROGRAM            for each RUN entry
    matched: yes|no         whether any rule assigned anything
"""

import fnmatch
import re
import sys

MATCH_KEYS = {'ACTION', 'DEVPATH', 'KERNEL', 'KERNELS', 'NAME', 'SYMLINK',
              'SUBSYSTEM', 'SUBSYSTEMS', 'DRIVER', 'DRIVERS', 'ATTR', 'ATTRS',
              'SYSCTL', 'ENV', 'CONST', 'TAG', 'TAGS', 'TEST', 'PROGRAM',
              'RESULT'}
ASSIGN_KEYS = {'NAME', 'SYMLINK', 'OWNER', 'GROUP', 'MODE', 'SECLABEL',
               'ATTR', 'SYSCTL', 'ENV', 'TAG', 'RUN', 'LABEL', 'GOTO',
               'IMPORT', 'OPTIONS'}
WITH_ATTR = {'ATTR', 'ATTRS', 'SYSCTL', 'ENV', 'CONST', 'TEST', 'SECLABEL',
             'RUN', 'IMPORT'}
ENTRY = re.compile(r'\s*([A-Z_]+)(?:\{([^}]*)\})?\s*(==|!=|\+=|-=|:=|=)\s*'
                   r'"((?:[^"\\]|\\.)*)"\s*(,|$)')


class RuleError(Exception):
    pass


def parse(path):
    rules = []
    with open(path) as f:
        text = f.read()
    text = text.replace('\\\n', '')
    for lineno, line in enumerate(text.split('\n'), 1):
        s = line.strip()
        if not s or s.startswith('#'):
            continue
        entries, pos = [], 0
        while pos < len(s):
            m = ENTRY.match(s, pos)
            if not m:
                raise RuleError('%s:%d: cannot parse at %r' %
                                (path, lineno, s[pos:pos + 30]))
            key, attr, op, value, _ = m.groups()
            if key not in MATCH_KEYS | ASSIGN_KEYS:
                raise RuleError('%s:%d: unknown key %s' % (path, lineno, key))
            if (attr is not None) != (key in WITH_ATTR) and key != 'RUN':
                raise RuleError('%s:%d: %s {attribute} misuse' %
                                (path, lineno, key))
            if op in ('==', '!=') and key not in MATCH_KEYS:
                raise RuleError('%s:%d: %s cannot be matched' %
                                (path, lineno, key))
            if op not in ('==', '!=') and key not in ASSIGN_KEYS:
                raise RuleError('%s:%d: %s cannot be assigned' %
                                (path, lineno, key))
            entries.append((key, attr, op, value))
            pos = m.end()
        rules.append((lineno, entries))
    return rules


def matches(pattern, value):
    return any(fnmatch.fnmatchcase(value, p) for p in pattern.split('|'))


def lookup(event, env, key, attr):
    if key == 'ENV':
        return env.get(attr, '')
    if key in ('ACTION', 'SUBSYSTEM', 'KERNEL', 'DEVPATH'):
        return event.get(key, '')
    raise RuleError('cannot evaluate %s here' % key)


def run(rules, event):
    env = {k: v for k, v in event.items()}
    tags, progs, matched = [], [], False
    labels = {}
    for i, (_, entries) in enumerate(rules):
        for key, _, _, value in entries:
            if key == 'LABEL':
                labels[value] = i
    i = 0
    while i < len(rules):
        _, entries = rules[i]
        ok = True
        for key, attr, op, value in entries:
            if op in ('==', '!='):
                hit = matches(value, lookup(event, env, key, attr))
                if hit != (op == '=='):
                    ok = False
                    break
        i += 1
        if not ok:
            continue
        for key, attr, op, value in entries:
            if op in ('==', '!='):
                continue
            if key == 'GOTO':
                if value not in labels:
                    raise RuleError('GOTO to missing LABEL %s' % value)
                i = labels[value]
            elif key == 'LABEL':
                pass
            elif key == 'TAG':
                tags.append(value)
                matched = True
            elif key == 'ENV':
                if op == '+=' and env.get(attr):
                    env[attr] = env[attr] + ' ' + value
                else:
                    env[attr] = value
                matched = True
            elif key == 'RUN':
                progs.append(value)
                matched = True
            else:
                matched = True
    return env, tags, progs, matched


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    try:
        rules = parse(sys.argv[1])
    except (RuleError, OSError) as e:
        print('error: %s' % e)
        return 2
    event = dict(a.split('=', 1) for a in sys.argv[2:])
    keys = sorted({k + ('{%s}' % a if a else '') for _, es in rules
                   for k, a, op, _ in es if op in ('==', '!=')})
    print('keys: ' + ' '.join(keys))
    try:
        env, tags, progs, matched = run(rules, event)
    except RuleError as e:
        print('error: %s' % e)
        return 2
    for t in tags:
        print('tag: ' + t)
    for k in sorted(env):
        if env[k] != event.get(k):
            print('env: %s=%s' % (k, env[k]))
    for p in progs:
        print('run: ' + p)
    print('matched: ' + ('yes' if matched else 'no'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
