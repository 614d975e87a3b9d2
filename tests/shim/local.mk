# SPDX-License-Identifier: BSD-2-Clause
# libnkfixrandom: a test-only LD_PRELOAD library whose getrandom() returns
# fixed bytes (tests/shim/fixrandom.c). Built by make check, never installed:
# -rpath only makes libtool build a .so (tests/shim/.libs/libnkfixrandom.so).
check_LTLIBRARIES += tests/shim/libnkfixrandom.la
tests_shim_libnkfixrandom_la_SOURCES = tests/shim/fixrandom.c
tests_shim_libnkfixrandom_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared \
	-rpath /nowhere -export-symbols-regex '^getrandom$$'
