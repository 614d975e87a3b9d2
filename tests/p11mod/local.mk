# SPDX-License-Identifier: BSD-2-Clause
# libnkfault: a test-only PKCS#11 module that wraps a real one (SoftHSM) and
# injects faults chosen by NKFAULT_* environment variables (tests/p11mod/README).
# Built by make check, never installed: -rpath only makes libtool build a .so
# (tests/p11mod/.libs/libnkfault.so).
check_LTLIBRARIES += tests/p11mod/libnkfault.la
tests_p11mod_libnkfault_la_SOURCES = tests/p11mod/nkfault.c
tests_p11mod_libnkfault_la_CPPFLAGS = $(AM_CPPFLAGS) $(P11KIT_CFLAGS) \
	-DNKFAULT_DEFAULT_MODULE='"$(softhsm_module)"'
tests_p11mod_libnkfault_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared \
	-rpath /nowhere -export-symbols-regex '^C_GetFunctionList$$'
tests_p11mod_libnkfault_la_LIBADD = -lpthread

TESTS += tests/integration/p11mod-selftest.sh tests/integration/p11mod-replay.sh
EXTRA_DIST += tests/integration/p11mod-selftest.sh tests/integration/p11mod-replay.sh \
	tests/p11mod/README
