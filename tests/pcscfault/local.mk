# SPDX-License-Identifier: BSD-2-Clause
# The card tests' tools (never installed): nkapdu sends raw commands to a
# card, nkreaders drives the reader API, and nkhsm-pam-helper-fault is
# pam_nkhsm's helper over a PC/SC table that fails at a chosen command
# (tests/README, "Card test tools").
check_PROGRAMS += tests/pcscfault/nkapdu tests/pcscfault/nkhsm-pam-helper-fault \
	tests/pcscfault/nkreaders

tests_pcscfault_nkapdu_SOURCES = tests/pcscfault/nkapdu.c
tests_pcscfault_nkapdu_CPPFLAGS = $(AM_CPPFLAGS) $(PCSC_CFLAGS)
tests_pcscfault_nkapdu_LDADD = lib/libnkhsm_core.la $(OPENSSL_LIBS)

tests_pcscfault_nkhsm_pam_helper_fault_SOURCES = tests/pcscfault/faulthelper.c \
	pam_nkhsm/helper.c pam_nkhsm/helper.h $(PAMNK_COMMON)
tests_pcscfault_nkhsm_pam_helper_fault_CPPFLAGS = $(AM_CPPFLAGS) $(OPENSSL_CFLAGS) \
	$(PCSC_CFLAGS) -I$(top_srcdir)/pam_nkhsm -I$(top_srcdir)/pamconf
tests_pcscfault_nkhsm_pam_helper_fault_LDADD = lib/libnkhsm_core.la $(OPENSSL_LIBS)

tests_pcscfault_nkreaders_SOURCES = tests/pcscfault/nkreaders.c
tests_pcscfault_nkreaders_LDADD = lib/libnkhsm_core.la $(OPENSSL_LIBS)

# nkhsm-hotplug over a PC/SC table that makes the kit's reader come and go
# like a Nitrokey HSM's, or its card hang (hotplug-card.sh).
check_PROGRAMS += tests/pcscfault/nkhsm-hotplug-fake
tests_pcscfault_nkhsm_hotplug_fake_SOURCES = tests/pcscfault/hotplugfake.c
tests_pcscfault_nkhsm_hotplug_fake_CPPFLAGS = $(HOTPLUG_CPP_FLAGS) $(PCSC_CFLAGS)
tests_pcscfault_nkhsm_hotplug_fake_LDADD = $(HOTPLUG_LIBS)
