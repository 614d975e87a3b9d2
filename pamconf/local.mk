# SPDX-License-Identifier: BSD-2-Clause
# What pam_nkhsm reads and how it judges it: module arguments, authorized
# keys files (lines, options, owner and mode) and the code it runs. A
# convenience library that pam_nkhsm and nkhsm-tool doctor both link, so
# that doctor judges those files exactly as a login does, from the one
# copy of the rules. Not lib/: this is pam_nkhsm's policy, not token access.
noinst_LTLIBRARIES += pamconf/libnkpamconf.la
pamconf_libnkpamconf_la_SOURCES = pamconf/pamconf.h pamconf/options.c \
	pamconf/authfile.c pamconf/keyopts.c pamconf/from.c \
	pamconf/codepath.c pamconf/escape.c
pamconf_libnkpamconf_la_CPPFLAGS = $(AM_CPPFLAGS) $(OPENSSL_CFLAGS)
