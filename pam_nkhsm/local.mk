# SPDX-License-Identifier: BSD-2-Clause
# pam_nkhsm.so and its token helper. The module links the core statically
# (no runtime dependency on libnkhsm.so in a login path) and exports only
# the pam_sm_* entry points. Its options, authorized keys and code path
# checks are in pamconf/, which nkhsm-tool doctor shares.
pam_LTLIBRARIES = pam_nkhsm/pam_nkhsm.la
PAMNK_COMMON = pam_nkhsm/pamnk.h pam_nkhsm/proto.h pam_nkhsm/proto.c
pam_nkhsm_pam_nkhsm_la_SOURCES = pam_nkhsm/pam_nkhsm.c pam_nkhsm/session.c \
	pam_nkhsm/glue.c pam_nkhsm/ticket.c \
	pam_nkhsm/spawn.c pam_nkhsm/revoke.c pam_nkhsm/revoke.h \
	pam_nkhsm/crlcache.c pam_nkhsm/crlcache.h \
	pam_nkhsm/spawn.h pam_nkhsm/util.c $(PAMNK_COMMON)
pam_nkhsm_pam_nkhsm_la_CPPFLAGS = $(AM_CPPFLAGS) $(OPENSSL_CFLAGS) $(PAM_CFLAGS) \
	-I$(top_srcdir)/pamconf \
	-DNKHSM_HELPER_PATH='"$(pkglibexecdir)/nkhsm-pam-helper"'
pam_nkhsm_pam_nkhsm_la_LIBADD = pamconf/libnkpamconf.la lib/libnkhsm_core.la \
	$(PAM_LIBS) $(OPENSSL_LIBS)
pam_nkhsm_pam_nkhsm_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared \
	-export-symbols-regex '^pam_sm_'

pkglibexec_PROGRAMS = pam_nkhsm/nkhsm-pam-helper
pam_nkhsm_nkhsm_pam_helper_SOURCES = pam_nkhsm/helper-main.c pam_nkhsm/helper.c \
	pam_nkhsm/helper.h $(PAMNK_COMMON)
pam_nkhsm_nkhsm_pam_helper_CPPFLAGS = $(AM_CPPFLAGS) $(OPENSSL_CFLAGS) \
	-I$(top_srcdir)/pamconf
pam_nkhsm_nkhsm_pam_helper_LDADD = lib/libnkhsm_core.la $(OPENSSL_LIBS)
