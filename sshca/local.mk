# SPDX-License-Identifier: BSD-2-Clause
# nkhsm-sshca: OpenSSH and X.509 CA with its key on the token.
bin_PROGRAMS += sshca/nkhsm-sshca
sshca_nkhsm_sshca_SOURCES = sshca/sshca.c sshca/cmd.h sshca/ca.c \
	sshca/cmd-init.c sshca/cmd-join.c sshca/cmd-sign.c sshca/cmd-x509.c sshca/cmd-revoke.c \
	sshca/cmd-krl.c sshca/cmd-crl.c sshca/cmd-ledger.c \
	sshca/sshca.h sshca/sshcert.c \
	sshca/krl.c sshca/policy.c sshca/ledger.c sshca/ledger.h \
	sshca/ledger-int.h sshca/ledger-sqlite.c sshca/ledgerurl.c sshca/site.c \
	sshca/site.h \
	sshca/ledgerlog.c sshca/ledgerlog.h sshca/ledgerverify.c \
	sshca/x509ca.c sshca/x509ca.h sshca/san.c sshca/san.h
sshca_nkhsm_sshca_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cli \
	$(OPENSSL_CFLAGS) $(SQLITE_CFLAGS) $(LIBPQ_CFLAGS)
sshca_nkhsm_sshca_LDADD = cli/libnkcli.la lib/libnkhsm_core.la $(SQLITE_LIBS) \
	$(LIBPQ_LIBS) $(OPENSSL_LIBS)
# The PostgreSQL backend (configure --with-postgresql, on when libpq is found).
if HAVE_POSTGRESQL
sshca_nkhsm_sshca_SOURCES += sshca/ledger-pg.c
else
EXTRA_DIST += sshca/ledger-pg.c
endif
