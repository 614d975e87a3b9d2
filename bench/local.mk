# SPDX-License-Identifier: BSD-2-Clause
# Benchmarks: built on demand, run with `make bench` (never part of make check).
EXTRA_PROGRAMS = bench/bare_sign
bench_bare_sign_SOURCES = bench/bare_sign.c
bench_bare_sign_CPPFLAGS = $(AM_CPPFLAGS) $(OPENSSL_CFLAGS) $(P11KIT_CFLAGS)
bench_bare_sign_CFLAGS = $(AM_CFLAGS) -Wno-missing-prototypes -Wno-declaration-after-statement
bench_bare_sign_LDADD = $(OPENSSL_LIBS)
CLEANFILES += bench/bare_sign
EXTRA_DIST += bench/run.sh bench/README.md

bench: bench/bare_sign tools/nkhsm-tool
	top_builddir='$(abs_top_builddir)' SOFTHSM_MODULE='$(softhsm_module)' \
	    sh '$(abs_top_srcdir)/bench/run.sh'
.PHONY: bench

# PAM login: pam_nkhsm vs pam_pkcs11 vs a bare PKCS#11 login (bench/pam.sh).
EXTRA_PROGRAMS += bench/bare_login
bench_bare_login_SOURCES = bench/bare_login.c
bench_bare_login_CPPFLAGS = $(AM_CPPFLAGS) $(OPENSSL_CFLAGS) $(P11KIT_CFLAGS)
bench_bare_login_CFLAGS = $(AM_CFLAGS) -Wno-missing-prototypes -Wno-declaration-after-statement
bench_bare_login_LDADD = $(OPENSSL_LIBS)
CLEANFILES += bench/bare_login
EXTRA_DIST += bench/pam.sh

bench: bench-pam
bench-pam: bench/bare_login tools/nkhsm-tool pam_nkhsm/pam_nkhsm.la \
    pam_nkhsm/nkhsm-pam-helper tests/p11mod/libnkfault.la
	top_builddir='$(abs_top_builddir)' SOFTHSM_MODULE='$(softhsm_module)' \
	    sh '$(abs_top_srcdir)/bench/pam.sh'
.PHONY: bench-pam

# SSH CA: nkhsm-sshca batches vs ssh-keygen -s -D (bench/sshca.sh).
EXTRA_DIST += bench/sshca.sh
bench: bench-sshca
bench-sshca: bench/bare_sign sshca/nkhsm-sshca tools/nkhsm-tool tests/p11mod/libnkfault.la
	top_builddir='$(abs_top_builddir)' SOFTHSM_MODULE='$(softhsm_module)' \
	    sh '$(abs_top_srcdir)/bench/sshca.sh'
.PHONY: bench-sshca

# nkhsm-tool and nkhsm-sshca on an emulated SmartCard-HSM: APDUs per command
# (bench/card-tools.sh; skipped with a message when the card kit cannot start).
EXTRA_DIST += bench/card-tools.sh
bench: bench-card-tools
bench-card-tools: tools/nkhsm-tool sshca/nkhsm-sshca
	top_builddir='$(abs_top_builddir)' top_srcdir='$(abs_top_srcdir)' \
	    SOFTHSM_MODULE='$(softhsm_module)' \
	    sh '$(abs_top_srcdir)/bench/card-tools.sh' || test $$? -eq 77
.PHONY: bench-card-tools

# SmartCard-HSM login: pam_nkhsm's direct PC/SC path vs OpenSC's PKCS#11 path
# vs the 3-APDU floor, on the emulated card (bench/card.sh).
EXTRA_PROGRAMS += bench/card_floor
bench_card_floor_SOURCES = bench/card_floor.c
bench_card_floor_CPPFLAGS = $(AM_CPPFLAGS) $(OPENSSL_CFLAGS) $(PCSC_CFLAGS)
bench_card_floor_CFLAGS = $(AM_CFLAGS) -Wno-missing-prototypes
bench_card_floor_LDADD = $(OPENSSL_LIBS) $(PCSC_LIBS)
CLEANFILES += bench/card_floor
EXTRA_DIST += bench/card.sh

bench: bench-card
bench-card: bench/card_floor tools/nkhsm-tool pam_nkhsm/pam_nkhsm.la \
    pam_nkhsm/nkhsm-pam-helper
	top_builddir='$(abs_top_builddir)' top_srcdir='$(abs_top_srcdir)' \
	    sh '$(abs_top_srcdir)/bench/card.sh'
.PHONY: bench-card

# Revocation in a PAM login: a CRL and a KRL of 10,000 against none
# (bench/revoke.sh, bench/revgen.py writes the lists).
EXTRA_DIST += bench/revoke.sh bench/revgen.py
bench: bench-revoke
bench-revoke: tools/nkhsm-tool pam_nkhsm/pam_nkhsm.la pam_nkhsm/nkhsm-pam-helper \
    tests/p11mod/libnkfault.la
	top_builddir='$(abs_top_builddir)' top_srcdir='$(abs_top_srcdir)' \
	    SOFTHSM_MODULE='$(softhsm_module)' sh '$(abs_top_srcdir)/bench/revoke.sh'
.PHONY: bench-revoke

# SSH CA on a PostgreSQL ledger: against ssh-keygen -s -D and SQLite, and
# two sites at once (bench/sshca-pg.sh; needs the postgresql package).
EXTRA_DIST += bench/sshca-pg.sh
if HAVE_POSTGRESQL
BENCH_SSHCA_PG = bench-sshca-pg
endif
bench: $(BENCH_SSHCA_PG)
bench-sshca-pg: sshca/nkhsm-sshca
	top_builddir='$(abs_top_builddir)' top_srcdir='$(abs_top_srcdir)' \
	    SOFTHSM_MODULE='$(softhsm_module)' \
	    sh '$(abs_top_srcdir)/bench/sshca-pg.sh'
.PHONY: bench-sshca-pg
