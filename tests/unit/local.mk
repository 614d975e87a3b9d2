# SPDX-License-Identifier: BSD-2-Clause
# Unit tests (cmocka). Included from tests/local.mk when cmocka is found.
# Each links the convenience library, so internal nk_* helpers are reachable.
UNIT_CC_FLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(OPENSSL_CFLAGS)
UNIT_LIBS = lib/libnkhsm_core.la $(CMOCKA_LIBS) $(OPENSSL_LIBS)

check_PROGRAMS += tests/unit/test_uri tests/unit/test_conf \
	tests/unit/test_err tests/unit/test_sshenc
TESTS += tests/unit/test_uri tests/unit/test_conf \
	tests/unit/test_err tests/unit/test_sshenc

tests_unit_test_uri_SOURCES = tests/unit/test_uri.c
tests_unit_test_uri_CFLAGS = $(UNIT_CC_FLAGS)
tests_unit_test_uri_LDADD = $(UNIT_LIBS)

tests_unit_test_conf_SOURCES = tests/unit/test_conf.c
tests_unit_test_conf_CFLAGS = $(UNIT_CC_FLAGS)
tests_unit_test_conf_LDADD = $(UNIT_LIBS)

tests_unit_test_err_SOURCES = tests/unit/test_err.c
tests_unit_test_err_CFLAGS = $(UNIT_CC_FLAGS)
tests_unit_test_err_LDADD = $(UNIT_LIBS)

tests_unit_test_sshenc_SOURCES = tests/unit/test_sshenc.c
tests_unit_test_sshenc_CFLAGS = $(UNIT_CC_FLAGS)
tests_unit_test_sshenc_LDADD = $(UNIT_LIBS)

# pam_nkhsm's parsers: the module's sources are compiled into the test.
check_PROGRAMS += tests/unit/test_pamopts tests/unit/test_authfile
TESTS += tests/unit/test_pamopts tests/unit/test_authfile

tests_unit_test_pamopts_SOURCES = tests/unit/test_pamopts.c \
	pamconf/options.c
tests_unit_test_pamopts_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/pam_nkhsm -I$(top_srcdir)/pamconf
tests_unit_test_pamopts_CFLAGS = $(UNIT_CC_FLAGS)
tests_unit_test_pamopts_LDADD = $(UNIT_LIBS)

tests_unit_test_authfile_SOURCES = tests/unit/test_authfile.c \
	pamconf/authfile.c pamconf/keyopts.c pamconf/from.c \
	pam_nkhsm/util.c pamconf/escape.c
tests_unit_test_authfile_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/pam_nkhsm -I$(top_srcdir)/pamconf
tests_unit_test_authfile_CFLAGS = $(UNIT_CC_FLAGS)
tests_unit_test_authfile_LDADD = $(UNIT_LIBS)

# authorized_keys options: from= patterns, expiry-time=, restrictions.
check_PROGRAMS += tests/unit/test_keyopts
TESTS += tests/unit/test_keyopts
tests_unit_test_keyopts_SOURCES = tests/unit/test_keyopts.c \
	pamconf/keyopts.c pamconf/from.c pamconf/authfile.c \
	pamconf/escape.c
tests_unit_test_keyopts_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/pam_nkhsm -I$(top_srcdir)/pamconf
tests_unit_test_keyopts_CFLAGS = $(UNIT_CC_FLAGS)
tests_unit_test_keyopts_LDADD = $(UNIT_LIBS)

# pam_nkhsm's hand-over from authentication to session (tickets).
check_PROGRAMS += tests/unit/test_ticket
TESTS += tests/unit/test_ticket
tests_unit_test_ticket_SOURCES = tests/unit/test_ticket.c pam_nkhsm/ticket.c
tests_unit_test_ticket_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/pam_nkhsm -I$(top_srcdir)/pamconf
tests_unit_test_ticket_CFLAGS = $(UNIT_CC_FLAGS)
tests_unit_test_ticket_LDADD = $(UNIT_LIBS)

# nkhsm-sshca's pure parts: sshca/krl.c and sshca/policy.c compiled into
# the tests; krlgen writes KRLs for ssh-keygen -Q in sshca-krl.sh.
check_PROGRAMS += tests/unit/test_krl tests/unit/test_policy \
	tests/unit/krlgen
TESTS += tests/unit/test_krl tests/unit/test_policy \
	tests/integration/sshca-krl.sh
EXTRA_DIST += tests/integration/sshca-krl.sh

tests_unit_test_krl_SOURCES = tests/unit/test_krl.c sshca/krl.c \
	sshca/sshca.h
tests_unit_test_krl_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/sshca
tests_unit_test_krl_CFLAGS = $(UNIT_CC_FLAGS)
tests_unit_test_krl_LDADD = $(UNIT_LIBS)

tests_unit_test_policy_SOURCES = tests/unit/test_policy.c sshca/policy.c \
	sshca/sshca.h
tests_unit_test_policy_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/sshca
tests_unit_test_policy_CFLAGS = $(UNIT_CC_FLAGS)
tests_unit_test_policy_LDADD = $(UNIT_LIBS)

tests_unit_krlgen_SOURCES = tests/unit/krlgen.c sshca/krl.c sshca/sshca.h
tests_unit_krlgen_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/sshca
tests_unit_krlgen_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
tests_unit_krlgen_LDADD = lib/libnkhsm_core.la $(OPENSSL_LIBS)

# nkhsm-hotplug's pure parts, from its convenience library.
check_PROGRAMS += tests/unit/test_hotplug
TESTS += tests/unit/test_hotplug

tests_unit_test_hotplug_SOURCES = tests/unit/test_hotplug.c
tests_unit_test_hotplug_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/udev
tests_unit_test_hotplug_CFLAGS = $(UNIT_CC_FLAGS)
tests_unit_test_hotplug_LDADD = udev/libnkhotplug.la $(UNIT_LIBS) $(UDEV_LIBS)

# Its PC/SC decisions: reader names, reader changes, binding by card serial.
check_PROGRAMS += tests/unit/test_hotplug_cards
TESTS += tests/unit/test_hotplug_cards
tests_unit_test_hotplug_cards_SOURCES = tests/unit/test_hotplug_cards.c
tests_unit_test_hotplug_cards_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/udev
tests_unit_test_hotplug_cards_CFLAGS = $(UNIT_CC_FLAGS)
tests_unit_test_hotplug_cards_LDADD = udev/libnkhotplug.la $(UNIT_LIBS) $(UDEV_LIBS)

# Every allocation of each parser fails in turn (--wrap): NKHSM_ERR_NOMEM,
# no crash, and no leak under the sanitizer build's leak checker.
check_PROGRAMS += tests/unit/test_nomem
TESTS += tests/unit/test_nomem
tests_unit_test_nomem_SOURCES = tests/unit/test_nomem.c \
	pamconf/options.c pamconf/authfile.c pamconf/keyopts.c \
	pamconf/from.c pamconf/escape.c \
	sshca/policy.c sshca/sshcert.c sshca/sshca.h sshca/ledgerlog.c
tests_unit_test_nomem_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/pam_nkhsm -I$(top_srcdir)/pamconf \
	-I$(top_srcdir)/sshca -I$(top_srcdir)/udev
tests_unit_test_nomem_CFLAGS = $(UNIT_CC_FLAGS)
tests_unit_test_nomem_LDADD = udev/libnkhotplug.la $(UNIT_LIBS) $(UDEV_LIBS)
tests_unit_test_nomem_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=malloc \
	-Wl,--wrap=calloc -Wl,--wrap=realloc -Wl,--wrap=reallocarray \
	-Wl,--wrap=strdup

# The key checks (lib/keycheck.c) through each reader: nkhsm-sshca's
# subject keys and pam_nkhsm's authorized keys. ed25519_torsion.py derives
# the Ed25519 vectors; sshca-keys.sh runs it.
check_PROGRAMS += tests/unit/test_keycheck
TESTS += tests/unit/test_keycheck
EXTRA_DIST += tests/unit/ed25519_torsion.py
tests_unit_test_keycheck_SOURCES = tests/unit/test_keycheck.c \
	sshca/sshcert.c sshca/sshca.h pamconf/authfile.c pamconf/keyopts.c \
	pamconf/from.c pamconf/escape.c
tests_unit_test_keycheck_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/pam_nkhsm -I$(top_srcdir)/pamconf \
	-I$(top_srcdir)/sshca
tests_unit_test_keycheck_CFLAGS = $(UNIT_CC_FLAGS)
tests_unit_test_keycheck_LDADD = $(UNIT_LIBS)

# nkhsm-sshca's strict input: -O, -V, host principals, --san.
check_PROGRAMS += tests/unit/test_sshca_input
TESTS += tests/unit/test_sshca_input
tests_unit_test_sshca_input_SOURCES = tests/unit/test_sshca_input.c \
	sshca/sshcert.c sshca/san.c sshca/san.h sshca/sshca.h
tests_unit_test_sshca_input_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/sshca
tests_unit_test_sshca_input_CFLAGS = $(UNIT_CC_FLAGS)
tests_unit_test_sshca_input_LDADD = $(UNIT_LIBS)

# nkhsm-sshca's log entries (sshca/ledgerlog.c).
check_PROGRAMS += tests/unit/test_ledgerlog
TESTS += tests/unit/test_ledgerlog
tests_unit_test_ledgerlog_SOURCES = tests/unit/test_ledgerlog.c \
	sshca/ledgerlog.c sshca/ledgerlog.h sshca/ledger.h
tests_unit_test_ledgerlog_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/sshca
tests_unit_test_ledgerlog_CFLAGS = $(UNIT_CC_FLAGS)
tests_unit_test_ledgerlog_LDADD = $(UNIT_LIBS)

# The SmartCard-HSM's answers and the card hints (lib/sc-*.c), against the
# emulated card's real answers in the fuzz corpus and OpenSSL's X.509.
check_PROGRAMS += tests/unit/test_schsm
TESTS += tests/unit/test_schsm
tests_unit_test_schsm_SOURCES = tests/unit/test_schsm.c
tests_unit_test_schsm_CPPFLAGS = $(AM_CPPFLAGS) \
	-DCORPUS_DIR='"$(abs_top_srcdir)/fuzz/corpus"'
tests_unit_test_schsm_CFLAGS = $(UNIT_CC_FLAGS)
tests_unit_test_schsm_LDADD = $(UNIT_LIBS)

# The PC/SC path against a scripted card behind the SCard table (the seam):
# commands per login, hints, faults at every command of a login.
check_PROGRAMS += tests/unit/test_pcsc
TESTS += tests/unit/test_pcsc
tests_unit_test_pcsc_SOURCES = tests/unit/test_pcsc.c
tests_unit_test_pcsc_CPPFLAGS = $(AM_CPPFLAGS) $(PCSC_CFLAGS)
tests_unit_test_pcsc_CFLAGS = $(UNIT_CC_FLAGS)
tests_unit_test_pcsc_LDADD = $(UNIT_LIBS)

# What pam_nkhsm tells the user about a token, the helper's messages, and
# how the driver is chosen (driver=, cachedir=, nkhsm.conf's driver).
check_PROGRAMS += tests/unit/test_pammsg
TESTS += tests/unit/test_pammsg
tests_unit_test_pammsg_SOURCES = tests/unit/test_pammsg.c pam_nkhsm/util.c pamconf/escape.c \
	pamconf/options.c
tests_unit_test_pammsg_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/pam_nkhsm -I$(top_srcdir)/pamconf
tests_unit_test_pammsg_CFLAGS = $(UNIT_CC_FLAGS)
tests_unit_test_pammsg_LDADD = $(UNIT_LIBS)

# lib/krl.c reads back what sshca/krl.c writes.
check_PROGRAMS += tests/unit/test_krlread
TESTS += tests/unit/test_krlread
tests_unit_test_krlread_SOURCES = tests/unit/test_krlread.c sshca/krl.c \
	sshca/sshca.h
tests_unit_test_krlread_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/sshca
tests_unit_test_krlread_CFLAGS = $(UNIT_CC_FLAGS)
tests_unit_test_krlread_LDADD = $(UNIT_LIBS)
