# SPDX-License-Identifier: BSD-2-Clause
# libnkhsm: all sources go into a convenience library that the tests and
# fuzzers link directly (they reach the internal nk_* helpers); the
# installed shared library exports only the public nkhsm_* API.
noinst_LTLIBRARIES += lib/libnkhsm_core.la
lib_libnkhsm_core_la_SOURCES = \
	lib/include/nkhsm.h lib/nk-int.h lib/buf.h lib/tok-int.h \
	lib/err.c lib/util.c lib/buf.c lib/curve.c lib/uri.c lib/conf.c \
	lib/file.c lib/pin.c lib/pubkey.c lib/sig.c lib/x509.c lib/evp.c \
	lib/ecraw.c lib/keycheck.c lib/p11.c lib/krl.c lib/krl.h lib/crl.c \
	lib/crl.h \
	lib/schsm.h lib/tlv.c lib/sc-fci.c lib/sc-objlist.c lib/sc-pin.c \
	lib/sc-pubkey.c lib/sc-devcert.c lib/sc-tokeninfo.c lib/sc-sig.c \
	lib/sc-hints.c \
	lib/pcsc-int.h lib/pcsc.c lib/sc-card.c lib/pcsc-tok.c
# PC/SC-lite: its header only; libpcsclite.so.1 is loaded when first needed
# (lib/pcsc.c), so a program on a PKCS#11 token never loads it.
lib_libnkhsm_core_la_CPPFLAGS = $(AM_CPPFLAGS) $(OPENSSL_CFLAGS) $(P11KIT_CFLAGS) \
	$(PCSC_CFLAGS) -DNKHSM_SYSCONFDIR='"$(sysconfdir)"'
lib_libnkhsm_core_la_LIBADD = $(OPENSSL_LIBS) -lpthread

lib_LTLIBRARIES += lib/libnkhsm.la
lib_libnkhsm_la_SOURCES =
lib_libnkhsm_la_LIBADD = lib/libnkhsm_core.la $(OPENSSL_LIBS)
lib_libnkhsm_la_LDFLAGS = $(AM_LDFLAGS) -version-info 0:0:0 -export-symbols-regex '^nkhsm_'

include_HEADERS = lib/include/nkhsm.h
pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = lib/nkhsm.pc
