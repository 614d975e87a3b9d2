# SPDX-License-Identifier: BSD-2-Clause
bin_PROGRAMS += tools/nkhsm-tool
tools_nkhsm_tool_SOURCES = tools/nkhsm-tool.c tools/cli.c tools/cli.h \
	tools/csr.c tools/csr.h
tools_nkhsm_tool_CPPFLAGS = $(AM_CPPFLAGS) $(OPENSSL_CFLAGS)
tools_nkhsm_tool_LDADD = lib/libnkhsm.la $(OPENSSL_LIBS)

dist_noinst_SCRIPTS += tools/demo.sh tools/quickstart.sh tools/test.sh tools/install-deps.sh \
	tools/ci-hardening.sh tools/test-packages.sh
