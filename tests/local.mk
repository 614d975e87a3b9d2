# SPDX-License-Identifier: BSD-2-Clause
# Tests: cmocka unit tests (tests/unit), integration scripts against
# throwaway SoftHSM tokens (tests/integration), and the fault-injecting
# PKCS#11 wrapper module they use (tests/p11mod).
AM_TESTS_ENVIRONMENT = \
	top_builddir='$(abs_top_builddir)'; export top_builddir; \
	top_srcdir='$(abs_top_srcdir)'; export top_srcdir; \
	SOFTHSM_MODULE='$(softhsm_module)'; export SOFTHSM_MODULE;

if HAVE_CMOCKA
include tests/unit/local.mk
endif
include tests/p11mod/local.mk
include tests/shim/local.mk
include tests/mutants/local.mk
include tests/pcscfault/local.mk

# A PAM application that authenticates and opens sessions as sshd and login
# do (tests/pamdrv/nkpamdrv.c), for the session-record tests.
check_PROGRAMS += tests/pamdrv/nkpamdrv
tests_pamdrv_nkpamdrv_SOURCES = tests/pamdrv/nkpamdrv.c
tests_pamdrv_nkpamdrv_CFLAGS = $(AM_CFLAGS) $(PAM_CFLAGS)
tests_pamdrv_nkpamdrv_LDADD = $(PAM_LIBS)

INTEGRATION_TESTS = \
	tests/integration/tool-formats.sh \
	tests/integration/tool-errors.sh \
	tests/integration/tool-keygen.sh \
	tests/integration/tool-timeout.sh \
	tests/integration/demo.sh \
	tests/integration/pam-auth.sh \
	tests/integration/pam-session.sh \
	tests/integration/pam-sweep.sh \
	tests/integration/pam-ca.sh \
	tests/integration/pam-keys.sh \
	tests/integration/pam-forge.sh \
	tests/integration/pam-code.sh \
	tests/integration/pam-keyopts.sh \
	tests/integration/pam-stacks.sh \
	tests/integration/sweep-tool.sh \
	tests/integration/sweep-sshca.sh \
	tests/integration/sshca-sign.sh \
	tests/integration/sshca-sshd.sh \
	tests/integration/sshca-ledger.sh \
	tests/integration/sshca-x509.sh \
	tests/integration/sshca-keys.sh \
	tests/integration/sshca-input.sh \
	tests/integration/sshca-tamper.sh \
	tests/integration/sshca-migrate.sh \
	tests/integration/card-tool.sh \
	tests/integration/pam-replay.sh \
	tests/integration/pam-bind.sh \
	tests/integration/sshca-replay.sh \
	tests/integration/card-sshca.sh \
	tests/integration/card-engine.sh \
	tests/integration/card-faults.sh \
	tests/integration/card-pam.sh \
	tests/integration/card-pam-fault.sh \
	tests/integration/card-pam-hints.sh \
	tests/integration/card-revoke.sh \
	tests/integration/pam-revoke.sh \
	tests/integration/card-session.sh \
	tests/integration/card-doctor.sh \
	tests/integration/tool-doctor.sh
TESTS += $(INTEGRATION_TESTS)
EXTRA_DIST += tests/README tests/integration/common.sh \
	tests/integration/assert.sh tests/integration/logind-common.sh \
	tests/integration/tool-checks.sh tests/integration/sshca-checks.sh \
	tests/integration/doctor-common.sh tests/valgrind.supp \
	tests/integration/card-common.sh tests/integration/pam-fixed.sh \
	tests/integration/sshd-common.sh tests/integration/pcsc_hold.py \
	tests/integration/badkeys.py tests/integration/ledger_tamper.py \
	tests/integration/ledger-v1.sql \
	$(INTEGRATION_TESTS)

# nkhsm-sshca's ledger on a real PostgreSQL server (pg-common.sh starts a
# throwaway cluster; a server that cannot start fails them). Built
# --without-postgresql, there is nothing to test.
PG_TESTS = \
	tests/integration/sshca-pg.sh \
	tests/integration/sshca-pg-sites.sh \
	tests/integration/sshca-pg-faults.sh \
	tests/integration/sshca-pg-tamper.sh
if HAVE_POSTGRESQL
TESTS += $(PG_TESTS)
endif
EXTRA_DIST += tests/integration/pg-common.sh tests/integration/ledger_tamper_pg.py \
	$(PG_TESTS)

# --version of every program against configure.ac's version.
TESTS += tests/integration/version.sh
EXTRA_DIST += tests/integration/version.sh

# The revocation readers against the real peers on the same files:
# lib/krl.c against ssh-keygen -Q (krlcraft.py writes what no tool writes;
# krlgen in tests/unit is nkhsm-sshca's encoder), lib/crl.c against
# openssl crl. revcheck puts the readers on the command line.
check_PROGRAMS += tests/unit/revcheck
tests_unit_revcheck_SOURCES = tests/unit/revcheck.c
tests_unit_revcheck_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
tests_unit_revcheck_LDADD = lib/libnkhsm_core.la $(OPENSSL_LIBS)
TESTS += tests/integration/krl-read.sh tests/integration/crl-read.sh
EXTRA_DIST += tests/integration/krl-read.sh tests/integration/krlcraft.py \
	tests/integration/crl-read.sh

# The list of tests, for tools/ci-hardening.sh to run a subset.
print-tests:
	@echo $(TESTS)
.PHONY: print-tests
