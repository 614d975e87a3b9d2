# SPDX-License-Identifier: BSD-2-Clause
# Fuzzing: a libFuzzer target for each parser, with a committed seed corpus.
#
# make check always builds each target with a plain main() (fuzz/replay.c)
# and replays its corpus, so the seeds stay valid inputs and the targets'
# own consistency checks (abort() on a broken round trip) run in every
# build, with no clang needed. For real fuzzing, instrument everything:
#   ./configure CC=clang --enable-fuzzing \
#       CFLAGS='-g -O1 -fsanitize=fuzzer-no-link,address,undefined'
#   make fuzz/fuzz_uri && fuzz/fuzz_uri -max_total_time=60 fuzz/corpus/uri
FUZZ_CPP_FLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/fuzz $(OPENSSL_CFLAGS)
FUZZ_LIBS = lib/libnkhsm_core.la $(OPENSSL_LIBS)
FUZZ_HDR = fuzz/fuzz.h

EXTRA_DIST += fuzz/corpus

check_PROGRAMS += fuzz/replay_uri fuzz/replay_conf fuzz/replay_sshpubkey \
	fuzz/replay_sig
TESTS += fuzz/replay_uri fuzz/replay_conf fuzz/replay_sshpubkey \
	fuzz/replay_sig

fuzz_replay_uri_SOURCES = fuzz/fuzz_uri.c fuzz/replay.c $(FUZZ_HDR)
fuzz_replay_uri_CPPFLAGS = $(FUZZ_CPP_FLAGS) \
	-DREPLAY_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/uri"'
fuzz_replay_uri_LDADD = $(FUZZ_LIBS)

fuzz_replay_conf_SOURCES = fuzz/fuzz_conf.c fuzz/replay.c $(FUZZ_HDR)
fuzz_replay_conf_CPPFLAGS = $(FUZZ_CPP_FLAGS) \
	-DREPLAY_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/conf"'
fuzz_replay_conf_LDADD = $(FUZZ_LIBS)

fuzz_replay_sshpubkey_SOURCES = fuzz/fuzz_sshpubkey.c fuzz/replay.c \
	$(FUZZ_HDR)
fuzz_replay_sshpubkey_CPPFLAGS = $(FUZZ_CPP_FLAGS) \
	-DREPLAY_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/sshpubkey"'
fuzz_replay_sshpubkey_LDADD = $(FUZZ_LIBS)

fuzz_replay_sig_SOURCES = fuzz/fuzz_sig.c fuzz/replay.c $(FUZZ_HDR)
fuzz_replay_sig_CPPFLAGS = $(FUZZ_CPP_FLAGS) \
	-DREPLAY_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/sig"'
fuzz_replay_sig_LDADD = $(FUZZ_LIBS)

if ENABLE_FUZZING
FUZZ_CC_FLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
FUZZ_LD_FLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer

noinst_PROGRAMS += fuzz/fuzz_uri fuzz/fuzz_conf fuzz/fuzz_sshpubkey \
	fuzz/fuzz_sig

fuzz_fuzz_uri_SOURCES = fuzz/fuzz_uri.c $(FUZZ_HDR)
fuzz_fuzz_uri_CPPFLAGS = $(FUZZ_CPP_FLAGS)
fuzz_fuzz_uri_CFLAGS = $(FUZZ_CC_FLAGS)
fuzz_fuzz_uri_LDFLAGS = $(FUZZ_LD_FLAGS)
fuzz_fuzz_uri_LDADD = $(FUZZ_LIBS)

fuzz_fuzz_conf_SOURCES = fuzz/fuzz_conf.c $(FUZZ_HDR)
fuzz_fuzz_conf_CPPFLAGS = $(FUZZ_CPP_FLAGS)
fuzz_fuzz_conf_CFLAGS = $(FUZZ_CC_FLAGS)
fuzz_fuzz_conf_LDFLAGS = $(FUZZ_LD_FLAGS)
fuzz_fuzz_conf_LDADD = $(FUZZ_LIBS)

fuzz_fuzz_sshpubkey_SOURCES = fuzz/fuzz_sshpubkey.c $(FUZZ_HDR)
fuzz_fuzz_sshpubkey_CPPFLAGS = $(FUZZ_CPP_FLAGS)
fuzz_fuzz_sshpubkey_CFLAGS = $(FUZZ_CC_FLAGS)
fuzz_fuzz_sshpubkey_LDFLAGS = $(FUZZ_LD_FLAGS)
fuzz_fuzz_sshpubkey_LDADD = $(FUZZ_LIBS)

fuzz_fuzz_sig_SOURCES = fuzz/fuzz_sig.c $(FUZZ_HDR)
fuzz_fuzz_sig_CPPFLAGS = $(FUZZ_CPP_FLAGS)
fuzz_fuzz_sig_CFLAGS = $(FUZZ_CC_FLAGS)
fuzz_fuzz_sig_LDFLAGS = $(FUZZ_LD_FLAGS)
fuzz_fuzz_sig_LDADD = $(FUZZ_LIBS)
endif

# pam_nkhsm's parsers: the module's sources are compiled into the target.
FUZZ_PAM_CPP_FLAGS = $(FUZZ_CPP_FLAGS) -I$(top_srcdir)/pam_nkhsm -I$(top_srcdir)/pamconf

check_PROGRAMS += fuzz/replay_pamopts fuzz/replay_authfile
TESTS += fuzz/replay_pamopts fuzz/replay_authfile

fuzz_replay_pamopts_SOURCES = fuzz/fuzz_pamopts.c pamconf/options.c \
	fuzz/replay.c $(FUZZ_HDR)
fuzz_replay_pamopts_CPPFLAGS = $(FUZZ_PAM_CPP_FLAGS) \
	-DREPLAY_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/pamopts"'
fuzz_replay_pamopts_LDADD = $(FUZZ_LIBS)

fuzz_replay_authfile_SOURCES = fuzz/fuzz_authfile.c pamconf/authfile.c \
	pamconf/keyopts.c pamconf/from.c pamconf/escape.c \
	fuzz/replay.c $(FUZZ_HDR)
fuzz_replay_authfile_CPPFLAGS = $(FUZZ_PAM_CPP_FLAGS) \
	-DREPLAY_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/authfile"'
fuzz_replay_authfile_LDADD = $(FUZZ_LIBS)

if ENABLE_FUZZING
noinst_PROGRAMS += fuzz/fuzz_pamopts fuzz/fuzz_authfile

fuzz_fuzz_pamopts_SOURCES = fuzz/fuzz_pamopts.c pamconf/options.c \
	$(FUZZ_HDR)
fuzz_fuzz_pamopts_CPPFLAGS = $(FUZZ_PAM_CPP_FLAGS)
fuzz_fuzz_pamopts_CFLAGS = $(FUZZ_CC_FLAGS)
fuzz_fuzz_pamopts_LDFLAGS = $(FUZZ_LD_FLAGS)
fuzz_fuzz_pamopts_LDADD = $(FUZZ_LIBS)

fuzz_fuzz_authfile_SOURCES = fuzz/fuzz_authfile.c pamconf/authfile.c \
	pamconf/keyopts.c pamconf/from.c pamconf/escape.c $(FUZZ_HDR)
fuzz_fuzz_authfile_CPPFLAGS = $(FUZZ_PAM_CPP_FLAGS)
fuzz_fuzz_authfile_CFLAGS = $(FUZZ_CC_FLAGS)
fuzz_fuzz_authfile_LDFLAGS = $(FUZZ_LD_FLAGS)
fuzz_fuzz_authfile_LDADD = $(FUZZ_LIBS)
endif

# from= pattern lists (pamconf/from.c).
check_PROGRAMS += fuzz/replay_from
TESTS += fuzz/replay_from

fuzz_replay_from_SOURCES = fuzz/fuzz_from.c pamconf/from.c fuzz/replay.c \
	$(FUZZ_HDR)
fuzz_replay_from_CPPFLAGS = $(FUZZ_PAM_CPP_FLAGS) \
	-DREPLAY_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/from"'
fuzz_replay_from_LDADD = $(FUZZ_LIBS)

if ENABLE_FUZZING
noinst_PROGRAMS += fuzz/fuzz_from

fuzz_fuzz_from_SOURCES = fuzz/fuzz_from.c pamconf/from.c $(FUZZ_HDR)
fuzz_fuzz_from_CPPFLAGS = $(FUZZ_PAM_CPP_FLAGS)
fuzz_fuzz_from_CFLAGS = $(FUZZ_CC_FLAGS)
fuzz_fuzz_from_LDFLAGS = $(FUZZ_LD_FLAGS)
fuzz_fuzz_from_LDADD = $(FUZZ_LIBS)
endif

# nkhsm-sshca's policy parser: sshca/policy.c is compiled into the target.
FUZZ_SSHCA_CPP_FLAGS = $(FUZZ_CPP_FLAGS) -I$(top_srcdir)/sshca

check_PROGRAMS += fuzz/replay_policy
TESTS += fuzz/replay_policy

fuzz_replay_policy_SOURCES = fuzz/fuzz_policy.c sshca/policy.c \
	fuzz/replay.c $(FUZZ_HDR)
fuzz_replay_policy_CPPFLAGS = $(FUZZ_SSHCA_CPP_FLAGS) \
	-DREPLAY_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/policy"'
fuzz_replay_policy_LDADD = $(FUZZ_LIBS)

if ENABLE_FUZZING
noinst_PROGRAMS += fuzz/fuzz_policy

fuzz_fuzz_policy_SOURCES = fuzz/fuzz_policy.c sshca/policy.c $(FUZZ_HDR)
fuzz_fuzz_policy_CPPFLAGS = $(FUZZ_SSHCA_CPP_FLAGS)
fuzz_fuzz_policy_CFLAGS = $(FUZZ_CC_FLAGS)
fuzz_fuzz_policy_LDFLAGS = $(FUZZ_LD_FLAGS)
fuzz_fuzz_policy_LDADD = $(FUZZ_LIBS)
endif

# nkhsm-sshca's site settings (STATE/site.conf): sshca/site.c and the ledger
# URL's form (sshca/ledgerurl.c) are compiled into the target.
check_PROGRAMS += fuzz/replay_site
TESTS += fuzz/replay_site

fuzz_replay_site_SOURCES = fuzz/fuzz_site.c sshca/site.c sshca/site.h \
	sshca/ledgerurl.c fuzz/replay.c $(FUZZ_HDR)
fuzz_replay_site_CPPFLAGS = $(FUZZ_SSHCA_CPP_FLAGS) \
	-DREPLAY_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/site"'
fuzz_replay_site_LDADD = $(FUZZ_LIBS)

if ENABLE_FUZZING
noinst_PROGRAMS += fuzz/fuzz_site

fuzz_fuzz_site_SOURCES = fuzz/fuzz_site.c sshca/site.c sshca/site.h \
	sshca/ledgerurl.c $(FUZZ_HDR)
fuzz_fuzz_site_CPPFLAGS = $(FUZZ_SSHCA_CPP_FLAGS)
fuzz_fuzz_site_CFLAGS = $(FUZZ_CC_FLAGS)
fuzz_fuzz_site_LDFLAGS = $(FUZZ_LD_FLAGS)
fuzz_fuzz_site_LDADD = $(FUZZ_LIBS)
endif

# x509 --san: sshca/san.c is compiled into the target.
check_PROGRAMS += fuzz/replay_san
TESTS += fuzz/replay_san

fuzz_replay_san_SOURCES = fuzz/fuzz_san.c sshca/san.c sshca/san.h \
	fuzz/replay.c $(FUZZ_HDR)
fuzz_replay_san_CPPFLAGS = $(FUZZ_SSHCA_CPP_FLAGS) \
	-DREPLAY_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/san"'
fuzz_replay_san_LDADD = $(FUZZ_LIBS)

if ENABLE_FUZZING
noinst_PROGRAMS += fuzz/fuzz_san

fuzz_fuzz_san_SOURCES = fuzz/fuzz_san.c sshca/san.c sshca/san.h $(FUZZ_HDR)
fuzz_fuzz_san_CPPFLAGS = $(FUZZ_SSHCA_CPP_FLAGS)
fuzz_fuzz_san_CFLAGS = $(FUZZ_CC_FLAGS)
fuzz_fuzz_san_LDFLAGS = $(FUZZ_LD_FLAGS)
fuzz_fuzz_san_LDADD = $(FUZZ_LIBS)
endif

# nkhsm-hotplug's parsers (hotplug.conf, the udev event environment, session
# records and logind replies): the targets link udev/libnkhotplug.la.
FUZZ_HOTPLUG_CPP_FLAGS = $(FUZZ_CPP_FLAGS) -I$(top_srcdir)/udev
FUZZ_HOTPLUG_LIBS = udev/libnkhotplug.la $(FUZZ_LIBS) $(UDEV_LIBS)

check_PROGRAMS += fuzz/replay_hotplug_conf fuzz/replay_hotplug_event \
	fuzz/replay_hotplug_record fuzz/replay_hotplug_reader
TESTS += fuzz/replay_hotplug_conf fuzz/replay_hotplug_event \
	fuzz/replay_hotplug_record fuzz/replay_hotplug_reader

fuzz_replay_hotplug_conf_SOURCES = fuzz/fuzz_hotplug_conf.c fuzz/replay.c \
	$(FUZZ_HDR)
fuzz_replay_hotplug_conf_CPPFLAGS = $(FUZZ_HOTPLUG_CPP_FLAGS) \
	-DREPLAY_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/hotplug_conf"'
fuzz_replay_hotplug_conf_LDADD = $(FUZZ_HOTPLUG_LIBS)

fuzz_replay_hotplug_event_SOURCES = fuzz/fuzz_hotplug_event.c fuzz/replay.c \
	$(FUZZ_HDR)
fuzz_replay_hotplug_event_CPPFLAGS = $(FUZZ_HOTPLUG_CPP_FLAGS) \
	-DREPLAY_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/hotplug_event"'
fuzz_replay_hotplug_event_LDADD = $(FUZZ_HOTPLUG_LIBS)

fuzz_replay_hotplug_record_SOURCES = fuzz/fuzz_hotplug_record.c \
	fuzz/replay.c $(FUZZ_HDR)
fuzz_replay_hotplug_record_CPPFLAGS = $(FUZZ_HOTPLUG_CPP_FLAGS) \
	-DREPLAY_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/hotplug_record"'
fuzz_replay_hotplug_record_LDADD = $(FUZZ_HOTPLUG_LIBS)

fuzz_replay_hotplug_reader_SOURCES = fuzz/fuzz_hotplug_reader.c \
	fuzz/replay.c $(FUZZ_HDR)
fuzz_replay_hotplug_reader_CPPFLAGS = $(FUZZ_HOTPLUG_CPP_FLAGS) \
	-DREPLAY_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/hotplug_reader"'
fuzz_replay_hotplug_reader_LDADD = $(FUZZ_HOTPLUG_LIBS)

if ENABLE_FUZZING
noinst_PROGRAMS += fuzz/fuzz_hotplug_conf fuzz/fuzz_hotplug_event \
	fuzz/fuzz_hotplug_record fuzz/fuzz_hotplug_reader

fuzz_fuzz_hotplug_conf_SOURCES = fuzz/fuzz_hotplug_conf.c $(FUZZ_HDR)
fuzz_fuzz_hotplug_conf_CPPFLAGS = $(FUZZ_HOTPLUG_CPP_FLAGS)
fuzz_fuzz_hotplug_conf_CFLAGS = $(FUZZ_CC_FLAGS)
fuzz_fuzz_hotplug_conf_LDFLAGS = $(FUZZ_LD_FLAGS)
fuzz_fuzz_hotplug_conf_LDADD = $(FUZZ_HOTPLUG_LIBS)

fuzz_fuzz_hotplug_event_SOURCES = fuzz/fuzz_hotplug_event.c $(FUZZ_HDR)
fuzz_fuzz_hotplug_event_CPPFLAGS = $(FUZZ_HOTPLUG_CPP_FLAGS)
fuzz_fuzz_hotplug_event_CFLAGS = $(FUZZ_CC_FLAGS)
fuzz_fuzz_hotplug_event_LDFLAGS = $(FUZZ_LD_FLAGS)
fuzz_fuzz_hotplug_event_LDADD = $(FUZZ_HOTPLUG_LIBS)

fuzz_fuzz_hotplug_record_SOURCES = fuzz/fuzz_hotplug_record.c $(FUZZ_HDR)
fuzz_fuzz_hotplug_record_CPPFLAGS = $(FUZZ_HOTPLUG_CPP_FLAGS)
fuzz_fuzz_hotplug_record_CFLAGS = $(FUZZ_CC_FLAGS)
fuzz_fuzz_hotplug_record_LDFLAGS = $(FUZZ_LD_FLAGS)
fuzz_fuzz_hotplug_record_LDADD = $(FUZZ_HOTPLUG_LIBS)

fuzz_fuzz_hotplug_reader_SOURCES = fuzz/fuzz_hotplug_reader.c $(FUZZ_HDR)
fuzz_fuzz_hotplug_reader_CPPFLAGS = $(FUZZ_HOTPLUG_CPP_FLAGS)
fuzz_fuzz_hotplug_reader_CFLAGS = $(FUZZ_CC_FLAGS)
fuzz_fuzz_hotplug_reader_LDFLAGS = $(FUZZ_LD_FLAGS)
fuzz_fuzz_hotplug_reader_LDADD = $(FUZZ_HOTPLUG_LIBS)
endif

# nkhsm-sshca's log entries: sshca/ledgerlog.c is compiled into the target.
check_PROGRAMS += fuzz/replay_ledger_entry
TESTS += fuzz/replay_ledger_entry

fuzz_replay_ledger_entry_SOURCES = fuzz/fuzz_ledger_entry.c \
	sshca/ledgerlog.c sshca/ledgerlog.h fuzz/replay.c $(FUZZ_HDR)
fuzz_replay_ledger_entry_CPPFLAGS = $(FUZZ_SSHCA_CPP_FLAGS) \
	-DREPLAY_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/ledger_entry"'
fuzz_replay_ledger_entry_LDADD = $(FUZZ_LIBS)

if ENABLE_FUZZING
noinst_PROGRAMS += fuzz/fuzz_ledger_entry

fuzz_fuzz_ledger_entry_SOURCES = fuzz/fuzz_ledger_entry.c sshca/ledgerlog.c \
	sshca/ledgerlog.h $(FUZZ_HDR)
fuzz_fuzz_ledger_entry_CPPFLAGS = $(FUZZ_SSHCA_CPP_FLAGS)
fuzz_fuzz_ledger_entry_CFLAGS = $(FUZZ_CC_FLAGS)
fuzz_fuzz_ledger_entry_LDFLAGS = $(FUZZ_LD_FLAGS)
fuzz_fuzz_ledger_entry_LDADD = $(FUZZ_LIBS)
endif

# The SmartCard-HSM's answers and the card hints file (lib/sc-*.c): every
# parser of what a card sends over PC/SC, which is untrusted input.
FUZZ_SC_CPP_FLAGS = $(FUZZ_CPP_FLAGS) $(PCSC_CFLAGS)
check_PROGRAMS += fuzz/replay_sc_fci fuzz/replay_sc_objlist fuzz/replay_sc_pin fuzz/replay_sc_pubkey fuzz/replay_sc_devcert fuzz/replay_sc_sig fuzz/replay_sc_hints
TESTS += fuzz/replay_sc_fci fuzz/replay_sc_objlist fuzz/replay_sc_pin fuzz/replay_sc_pubkey fuzz/replay_sc_devcert fuzz/replay_sc_sig fuzz/replay_sc_hints

fuzz_replay_sc_fci_SOURCES = fuzz/fuzz_sc_fci.c fuzz/replay.c $(FUZZ_HDR)
fuzz_replay_sc_fci_CPPFLAGS = $(FUZZ_SC_CPP_FLAGS) \
	-DREPLAY_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/sc_fci"'
fuzz_replay_sc_fci_LDADD = $(FUZZ_LIBS)

fuzz_replay_sc_objlist_SOURCES = fuzz/fuzz_sc_objlist.c fuzz/replay.c $(FUZZ_HDR)
fuzz_replay_sc_objlist_CPPFLAGS = $(FUZZ_SC_CPP_FLAGS) \
	-DREPLAY_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/sc_objlist"'
fuzz_replay_sc_objlist_LDADD = $(FUZZ_LIBS)

fuzz_replay_sc_pin_SOURCES = fuzz/fuzz_sc_pin.c fuzz/replay.c $(FUZZ_HDR)
fuzz_replay_sc_pin_CPPFLAGS = $(FUZZ_SC_CPP_FLAGS) \
	-DREPLAY_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/sc_pin"'
fuzz_replay_sc_pin_LDADD = $(FUZZ_LIBS)

fuzz_replay_sc_pubkey_SOURCES = fuzz/fuzz_sc_pubkey.c fuzz/replay.c $(FUZZ_HDR)
fuzz_replay_sc_pubkey_CPPFLAGS = $(FUZZ_SC_CPP_FLAGS) \
	-DREPLAY_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/sc_pubkey"'
fuzz_replay_sc_pubkey_LDADD = $(FUZZ_LIBS)

fuzz_replay_sc_devcert_SOURCES = fuzz/fuzz_sc_devcert.c fuzz/replay.c $(FUZZ_HDR)
fuzz_replay_sc_devcert_CPPFLAGS = $(FUZZ_SC_CPP_FLAGS) \
	-DREPLAY_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/sc_devcert"'
fuzz_replay_sc_devcert_LDADD = $(FUZZ_LIBS)

fuzz_replay_sc_sig_SOURCES = fuzz/fuzz_sc_sig.c fuzz/replay.c $(FUZZ_HDR)
fuzz_replay_sc_sig_CPPFLAGS = $(FUZZ_SC_CPP_FLAGS) \
	-DREPLAY_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/sc_sig"'
fuzz_replay_sc_sig_LDADD = $(FUZZ_LIBS)

fuzz_replay_sc_hints_SOURCES = fuzz/fuzz_sc_hints.c fuzz/replay.c $(FUZZ_HDR)
fuzz_replay_sc_hints_CPPFLAGS = $(FUZZ_SC_CPP_FLAGS) \
	-DREPLAY_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/sc_hints"'
fuzz_replay_sc_hints_LDADD = $(FUZZ_LIBS)

if ENABLE_FUZZING
noinst_PROGRAMS += fuzz/fuzz_sc_fci fuzz/fuzz_sc_objlist fuzz/fuzz_sc_pin fuzz/fuzz_sc_pubkey fuzz/fuzz_sc_devcert fuzz/fuzz_sc_sig fuzz/fuzz_sc_hints

fuzz_fuzz_sc_fci_SOURCES = fuzz/fuzz_sc_fci.c $(FUZZ_HDR)
fuzz_fuzz_sc_fci_CPPFLAGS = $(FUZZ_SC_CPP_FLAGS)
fuzz_fuzz_sc_fci_CFLAGS = $(FUZZ_CC_FLAGS)
fuzz_fuzz_sc_fci_LDFLAGS = $(FUZZ_LD_FLAGS)
fuzz_fuzz_sc_fci_LDADD = $(FUZZ_LIBS)

fuzz_fuzz_sc_objlist_SOURCES = fuzz/fuzz_sc_objlist.c $(FUZZ_HDR)
fuzz_fuzz_sc_objlist_CPPFLAGS = $(FUZZ_SC_CPP_FLAGS)
fuzz_fuzz_sc_objlist_CFLAGS = $(FUZZ_CC_FLAGS)
fuzz_fuzz_sc_objlist_LDFLAGS = $(FUZZ_LD_FLAGS)
fuzz_fuzz_sc_objlist_LDADD = $(FUZZ_LIBS)

fuzz_fuzz_sc_pin_SOURCES = fuzz/fuzz_sc_pin.c $(FUZZ_HDR)
fuzz_fuzz_sc_pin_CPPFLAGS = $(FUZZ_SC_CPP_FLAGS)
fuzz_fuzz_sc_pin_CFLAGS = $(FUZZ_CC_FLAGS)
fuzz_fuzz_sc_pin_LDFLAGS = $(FUZZ_LD_FLAGS)
fuzz_fuzz_sc_pin_LDADD = $(FUZZ_LIBS)

fuzz_fuzz_sc_pubkey_SOURCES = fuzz/fuzz_sc_pubkey.c $(FUZZ_HDR)
fuzz_fuzz_sc_pubkey_CPPFLAGS = $(FUZZ_SC_CPP_FLAGS)
fuzz_fuzz_sc_pubkey_CFLAGS = $(FUZZ_CC_FLAGS)
fuzz_fuzz_sc_pubkey_LDFLAGS = $(FUZZ_LD_FLAGS)
fuzz_fuzz_sc_pubkey_LDADD = $(FUZZ_LIBS)

fuzz_fuzz_sc_devcert_SOURCES = fuzz/fuzz_sc_devcert.c $(FUZZ_HDR)
fuzz_fuzz_sc_devcert_CPPFLAGS = $(FUZZ_SC_CPP_FLAGS)
fuzz_fuzz_sc_devcert_CFLAGS = $(FUZZ_CC_FLAGS)
fuzz_fuzz_sc_devcert_LDFLAGS = $(FUZZ_LD_FLAGS)
fuzz_fuzz_sc_devcert_LDADD = $(FUZZ_LIBS)

fuzz_fuzz_sc_sig_SOURCES = fuzz/fuzz_sc_sig.c $(FUZZ_HDR)
fuzz_fuzz_sc_sig_CPPFLAGS = $(FUZZ_SC_CPP_FLAGS)
fuzz_fuzz_sc_sig_CFLAGS = $(FUZZ_CC_FLAGS)
fuzz_fuzz_sc_sig_LDFLAGS = $(FUZZ_LD_FLAGS)
fuzz_fuzz_sc_sig_LDADD = $(FUZZ_LIBS)

fuzz_fuzz_sc_hints_SOURCES = fuzz/fuzz_sc_hints.c $(FUZZ_HDR)
fuzz_fuzz_sc_hints_CPPFLAGS = $(FUZZ_SC_CPP_FLAGS)
fuzz_fuzz_sc_hints_CFLAGS = $(FUZZ_CC_FLAGS)
fuzz_fuzz_sc_hints_LDFLAGS = $(FUZZ_LD_FLAGS)
fuzz_fuzz_sc_hints_LDADD = $(FUZZ_LIBS)
endif

# OpenSSH KRLs (lib/krl.c), as pam_nkhsm's krl= reads them.
check_PROGRAMS += fuzz/replay_krl
TESTS += fuzz/replay_krl

fuzz_replay_krl_SOURCES = fuzz/fuzz_krl.c fuzz/replay.c $(FUZZ_HDR)
fuzz_replay_krl_CPPFLAGS = $(FUZZ_CPP_FLAGS) \
	-DREPLAY_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/krl"'
fuzz_replay_krl_LDADD = $(FUZZ_LIBS)

if ENABLE_FUZZING
noinst_PROGRAMS += fuzz/fuzz_krl

fuzz_fuzz_krl_SOURCES = fuzz/fuzz_krl.c $(FUZZ_HDR)
fuzz_fuzz_krl_CPPFLAGS = $(FUZZ_CPP_FLAGS)
fuzz_fuzz_krl_CFLAGS = $(FUZZ_CC_FLAGS)
fuzz_fuzz_krl_LDFLAGS = $(FUZZ_LD_FLAGS)
fuzz_fuzz_krl_LDADD = $(FUZZ_LIBS)
endif

# X.509 CRLs (lib/crl.c), as pam_nkhsm's crl= reads them, against OpenSSL.
check_PROGRAMS += fuzz/replay_crl
TESTS += fuzz/replay_crl

fuzz_replay_crl_SOURCES = fuzz/fuzz_crl.c fuzz/replay.c $(FUZZ_HDR)
fuzz_replay_crl_CPPFLAGS = $(FUZZ_CPP_FLAGS) \
	-DREPLAY_CORPUS='"$(abs_top_srcdir)/fuzz/corpus/crl"'
fuzz_replay_crl_LDADD = $(FUZZ_LIBS)

if ENABLE_FUZZING
noinst_PROGRAMS += fuzz/fuzz_crl

fuzz_fuzz_crl_SOURCES = fuzz/fuzz_crl.c $(FUZZ_HDR)
fuzz_fuzz_crl_CPPFLAGS = $(FUZZ_CPP_FLAGS)
fuzz_fuzz_crl_CFLAGS = $(FUZZ_CC_FLAGS)
fuzz_fuzz_crl_LDFLAGS = $(FUZZ_LD_FLAGS)
fuzz_fuzz_crl_LDADD = $(FUZZ_LIBS)
endif
