# SPDX-License-Identifier: BSD-2-Clause
# What the command-line front ends share (nkhsm-tool, nkhsm-sshca): module
# and token choice, the PIN flow, the per-call deadline, exit codes, escaped
# output, whole-or-nothing file writes and option checks. A convenience
# library of its own rather than part of libnkhsm: it prints, prompts,
# installs a SIGALRM handler and _exit()s on a deadline, none of which a
# library loaded into sshd or a display manager (pam_nkhsm) may do.
noinst_LTLIBRARIES += cli/libnkcli.la
cli_libnkcli_la_SOURCES = cli/cli.c cli/cli.h
cli_libnkcli_la_CPPFLAGS = $(AM_CPPFLAGS) $(OPENSSL_CFLAGS)
