# SPDX-License-Identifier: BSD-2-Clause
# nkhsm-hotplug: the udev rule, the systemd template unit, the program (its
# logic in a convenience library that the unit tests and fuzzers link) and
# its tests. Installed: the program in sbindir, the rule in udevrulesdir,
# the unit in systemdunitdir, the example configuration in docdir (a real
# /etc/nkhsm/hotplug.conf is never written).
noinst_LTLIBRARIES += udev/libnkhotplug.la
udev_libnkhotplug_la_SOURCES = udev/hotplug.h udev/util.c udev/event.c \
	udev/conf.c udev/record.c udev/logind.c udev/spawn.c \
	udev/ratelimit.c udev/actions.c udev/monitor.c udev/monitor.h \
	udev/moncards.c udev/cards.c udev/nkhsm-hotplug.c
HOTPLUG_CPP_FLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/udev $(UDEV_CFLAGS) \
	$(OPENSSL_CFLAGS) -DNKHSM_SYSCONFDIR='"$(sysconfdir)"'
HOTPLUG_LIBS = udev/libnkhotplug.la lib/libnkhsm_core.la $(UDEV_LIBS) \
	$(OPENSSL_LIBS)
udev_libnkhotplug_la_CPPFLAGS = $(HOTPLUG_CPP_FLAGS)

sbin_PROGRAMS += udev/nkhsm-hotplug
udev_nkhsm_hotplug_SOURCES = udev/hotplug-main.c
udev_nkhsm_hotplug_CPPFLAGS = $(HOTPLUG_CPP_FLAGS)
udev_nkhsm_hotplug_LDADD = $(HOTPLUG_LIBS)

udevrules_DATA = udev/70-nkhsm.rules
systemdunit_DATA = udev/nkhsm-hotplug@.service
hotplugexampledir = $(docdir)
hotplugexample_DATA = udev/hotplug.conf.example

# The unit names the installed program, so it is made at build time.
udev/nkhsm-hotplug@.service: $(top_srcdir)/udev/nkhsm-hotplug@.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) udev && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' \
	    $(top_srcdir)/udev/nkhsm-hotplug@.service.in > $@.tmp && \
	mv -f $@.tmp $@
CLEANFILES += udev/nkhsm-hotplug@.service
EXTRA_DIST += udev/70-nkhsm.rules udev/nkhsm-hotplug@.service.in \
	udev/hotplug.conf.example

HOTPLUG_TESTS = \
	tests/integration/hotplug-config.sh \
	tests/integration/hotplug-rule.sh \
	tests/integration/hotplug-monitor.sh \
	tests/integration/hotplug-lock.sh \
	tests/integration/hotplug-storm.sh \
	tests/integration/hotplug-serial.sh \
	tests/integration/hotplug-card.sh
TESTS += $(HOTPLUG_TESTS)
EXTRA_DIST += $(HOTPLUG_TESTS) tests/integration/hotplug-common.sh \
	tests/hotplug/testbed.py tests/hotplug/rulecheck.py \
	tests/hotplug/vcard.py \
	tests/hotplug/record-action.sh bench/hotplug.sh

# Removal latency and idle cost: make bench-hotplug, also run by make bench.
bench: bench-hotplug
bench-hotplug: udev/nkhsm-hotplug
	top_builddir='$(abs_top_builddir)' top_srcdir='$(abs_top_srcdir)' \
	    SOFTHSM_MODULE='$(softhsm_module)' \
	    sh '$(abs_top_srcdir)/bench/hotplug.sh'
.PHONY: bench-hotplug
