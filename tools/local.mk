# SPDX-License-Identifier: BSD-2-Clause
bin_PROGRAMS += tools/nkhsm-tool
# doctor checks files as the programs that read them do: it links the
# libraries those programs are built from, pamconf/ (pam_nkhsm's option and
# authorized keys parsers) and nkhsm-hotplug's (its hotplug.conf loader and
# its test for files root runs), and compiles none of their sources.
tools_nkhsm_tool_SOURCES = tools/nkhsm-tool.c \
	tools/doctor.c tools/doctor.h tools/doctor-int.h tools/doctor-files.c \
	tools/doctor-token.c tools/csr.c tools/csr.h
tools_nkhsm_tool_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cli $(OPENSSL_CFLAGS) \
	-I$(top_srcdir)/pamconf -I$(top_srcdir)/udev \
	-DNKHSM_SYSCONFDIR='"$(sysconfdir)"' \
	-DNKHSM_HELPER_PATH='"$(pkglibexecdir)/nkhsm-pam-helper"' \
	-DNKHSM_PAMDIR='"$(pamdir)"' -DNKHSM_UDEVRULESDIR='"$(udevrulesdir)"' \
	-DNKHSM_SYSTEMDUNITDIR='"$(systemdunitdir)"'
tools_nkhsm_tool_LDADD = cli/libnkcli.la pamconf/libnkpamconf.la udev/libnkhotplug.la \
	lib/libnkhsm_core.la \
	$(UDEV_LIBS) $(OPENSSL_LIBS)

dist_noinst_SCRIPTS += tools/demo.sh tools/quickstart.sh tools/test.sh tools/install-deps.sh \
	tools/ci-hardening.sh tools/test-packages.sh
