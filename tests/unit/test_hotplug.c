/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_hotplug.c - nkhsm-hotplug's pure parts: sanitizing and checking
 * device strings, which events count, the environment parser, exact serial
 * matching between session records and devices, the run directory's
 * checks, the config parser's
 * words and limits, session records, dbus-send replies and the rate limit.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nkhsm.h"
#include "hotplug.h"

static void
test_sanitize(void **state)
{
	char out[HP_SERIAL_MAX + 1], big[200];

	assert_int_equal(hp_sanitize("DENK0100001", out, sizeof(out)), 0);
	assert_string_equal(out, "DENK0100001");
	assert_int_equal(hp_sanitize("a;b $(id)\n`x`", out, sizeof(out)), 1);
	assert_string_equal(out, "a_b___id___x_");
	assert_int_equal(hp_sanitize("\xc3\xa9-._:", out, sizeof(out)), 1);
	assert_string_equal(out, "__-._:");
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(hp_sanitize(big, out, sizeof(out)), 1);
	assert_int_equal(strlen(out), HP_SERIAL_MAX);
	assert_int_equal(hp_sanitize(NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

static void
test_names(void **state)
{
	assert_true(hp_user_valid("alice"));
	assert_true(hp_user_valid("svc-01.x_y"));
	assert_true(hp_user_valid("host$"));
	assert_false(hp_user_valid("-root"));
	assert_false(hp_user_valid("a b"));
	assert_false(hp_user_valid("a$b"));
	assert_false(hp_user_valid(""));
	assert_false(hp_user_valid("abcdefghijklmnopqrstuvwxyz0123456"));
	assert_true(hp_session_id_valid("c1"));
	assert_true(hp_session_id_valid("_31"));
	assert_false(hp_session_id_valid(""));
	assert_false(hp_session_id_valid("1;2"));
	assert_false(hp_session_id_valid("a/b"));
	assert_true(hp_syspath_valid("/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2"));
	assert_false(hp_syspath_valid("/sys/devices/../../etc"));
	assert_false(hp_syspath_valid("/sys/devices/usb1/./1-2"));
	assert_false(hp_syspath_valid("/sys/devices//usb1"));
	assert_false(hp_syspath_valid("/sys/devices/usb1/"));
	assert_false(hp_syspath_valid("/sys/class/usb"));
	assert_false(hp_syspath_valid("/sys/devices/usb 1"));
}

static void
test_escape(void **state)
{
	char buf[64];

	assert_string_equal(hp_esc("a'b\\c\n", buf, sizeof(buf)),
	    "a\\x27b\\x5cc\\x0a");
	assert_string_equal(hp_esc(NULL, buf, sizeof(buf)), "(none)");
	hp_esc("0123456789012345678901234567890123456789012345678901234567890123",
	    buf, 16);
	assert_int_equal(strlen(buf), 15);
	assert_string_equal(buf + 12, "...");
}

static void
test_duration(void **state)
{
	unsigned int ms;

	assert_int_equal(hp_parse_duration("500ms", 1000, &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(hp_parse_duration("2s", 60000, &ms), 0);
	assert_int_equal(ms, 2000);
	assert_int_equal(hp_parse_duration("0ms", 1000, &ms), 0);
	assert_int_equal(hp_parse_duration("500", 1000, &ms), -1);
	assert_int_equal(hp_parse_duration("2s", 1000, &ms), -1);
	assert_int_equal(hp_parse_duration("-1s", 1000, &ms), -1);
	assert_int_equal(hp_parse_duration("1m", 100000, &ms), -1);
	assert_int_equal(hp_parse_duration("99999999999s", ~0U, &ms), -1);
}

static int
classify(const char *action, const char *subsystem, const char *devtype,
    const char *product, struct hp_event *ev)
{
	struct hp_props p;
	char why[128];

	memset(&p, 0, sizeof(p));
	p.action = action;
	p.subsystem = subsystem;
	p.devtype = devtype;
	p.product = product;
	p.devpath = "/devices/usb1/1-2";
	p.serial = "X;Y";
	return hp_event_classify(&p, ev, why, sizeof(why));
}

static void
test_classify(void **state)
{
	struct hp_event ev;

	assert_int_equal(classify("add", "usb", "usb_device", "20a0/4230/101",
	    &ev), 0);
	assert_int_equal(ev.action, HP_EV_ADD);
	assert_string_equal(ev.syspath, "/sys/devices/usb1/1-2");
	assert_string_equal(ev.serial, "X_Y");
	assert_true(ev.serial_altered);
	assert_int_equal(classify("remove", "usb", "usb_device", "20A0/4230/0",
	    &ev), 0);
	assert_int_equal(ev.action, HP_EV_REMOVE);
	assert_int_equal(classify("change", "usb", "usb_device",
	    "20a0/4230/101", &ev), 1);
	assert_int_equal(classify("add", "usb", "usb_device", "20a0/4211/1",
	    &ev), 1);
	assert_int_equal(classify("add", "usb", "usb_device", "20a0/42301/1",
	    &ev), 1);
	assert_int_equal(classify("add", "usb", "usb_device", "120a0/4230/1",
	    &ev), 1);
	assert_int_equal(classify("add", "usb", "usb_device", "20a0/4230",
	    &ev), 1);
	assert_int_equal(classify("add", "usb", "usb_device", "20a0/4230/",
	    &ev), 1);
	assert_int_equal(classify("add", "usb", "usb_device", NULL, &ev), 1);
	assert_int_equal(classify("add", "usb", "usb_interface",
	    "20a0/4230/101", &ev), 1);
	assert_int_equal(classify("add", "hidraw", NULL, "20a0/4230/101",
	    &ev), 1);
	assert_int_equal(classify(NULL, "usb", "usb_device", "20a0/4230/101",
	    &ev), -1);
}

/*
 * An overlong entry the event does not read (a service manager's or a
 * test harness's MAKEFLAGS) is not looked at; an overlong one it reads is
 * refused by name.
 */
static void
test_env_long(char **good)
{
	char *env[16], *big;
	struct hp_event ev;
	char why[128];
	size_t i, n;

	assert_non_null(big = malloc(HP_ENV_ENTRY_MAX + 16));
	for (n = 0; good[n] != NULL; n++)
		env[n] = good[n];
	memcpy(big, "MAKEFLAGS=", 10);
	memset(big + 10, 'x', HP_ENV_ENTRY_MAX);
	big[HP_ENV_ENTRY_MAX + 10] = '\0';
	env[n] = big;
	env[n + 1] = NULL;
	assert_int_equal(hp_event_from_env(env, &ev, why, sizeof(why)), 0);
	assert_string_equal(ev.serial, "DENK0100001");
	/* The same length in a property the event reads: refused. */
	memcpy(big, "ID_SERIAL_SHORT=", 16);
	for (i = 0; i < n; i++)
		if (strncmp(env[i], "ID_SERIAL_SHORT=", 16) == 0)
			env[i] = (char *)"X=1";
	assert_int_equal(hp_event_from_env(env, &ev, why, sizeof(why)), -1);
	assert_string_equal(why, "ID_SERIAL_SHORT too long");
	free(big);
}

static void
test_env(void **state)
{
	char *good[] = {
		(char *)"PATH=/bin", (char *)"ACTION=remove",
		(char *)"SUBSYSTEM=usb", (char *)"DEVTYPE=usb_device",
		(char *)"PRODUCT=20a0/4230/101",
		(char *)"DEVPATH=/devices/pci0000:00/usb1/1-2",
		(char *)"ID_SERIAL_SHORT=DENK0100001", (char *)"SEQNUM=77",
		NULL,
	};
	char *twice[] = {
		(char *)"ACTION=add", (char *)"SUBSYSTEM=usb",
		(char *)"DEVTYPE=usb_device", (char *)"PRODUCT=20a0/4230/101",
		(char *)"DEVPATH=/devices/usb1/1-2",
		(char *)"DEVPATH=/devices/usb1/1-3", NULL,
	};
	char *dots[] = {
		(char *)"ACTION=add", (char *)"SUBSYSTEM=usb",
		(char *)"DEVTYPE=usb_device", (char *)"PRODUCT=20a0/4230/101",
		(char *)"DEVPATH=/devices/../../etc", NULL,
	};
	struct hp_event ev;
	char why[128];

	assert_int_equal(hp_event_from_env(good, &ev, why, sizeof(why)), 0);
	assert_int_equal(ev.action, HP_EV_REMOVE);
	assert_string_equal(ev.serial, "DENK0100001");
	assert_string_equal(ev.syspath, "/sys/devices/pci0000:00/usb1/1-2");
	assert_int_equal(ev.seqnum, 77);
	assert_int_equal(hp_event_from_env(twice, &ev, why, sizeof(why)), -1);
	assert_string_equal(why, "DEVPATH set twice");
	assert_int_equal(hp_event_from_env(dots, &ev, why, sizeof(why)), -1);
	test_env_long(good);
}

static void
test_serials(void **state)
{
	struct hp_present present;
	struct hp_event ev;

	assert_true(hp_serial_same("DENK0100001", "DENK0100001", 0));
	/* Exact only: a serial that extends or shortens another is not it. */
	assert_false(hp_serial_same("DENK0100001", "DENK010000100000", 0));
	assert_false(hp_serial_same("DENK010000100000", "DENK0100001", 0));
	assert_false(hp_serial_same("DENK0100001", "DENK010000", 0));
	assert_false(hp_serial_same("DENK0100001", "denk0100001", 0));
	assert_false(hp_serial_same("", "", 0));
	assert_false(hp_serial_same("DENK0100001", "", 0));
	/* A device serial that had to be sanitized or cut names nothing. */
	assert_false(hp_serial_same("DENK0100001", "DENK0100001", 1));

	memset(&ev, 0, sizeof(ev));
	memset(&present, 0, sizeof(present));
	snprintf(ev.syspath, sizeof(ev.syspath), "/sys/devices/usb1/1-1");
	snprintf(ev.serial, sizeof(ev.serial), "UNRELATED");
	/* absent: bound unless a present token matches. */
	assert_true(hp_record_bound(HP_MATCH_ABSENT, "DENK0100001", &ev,
	    &present));
	present.n = 2;
	snprintf(present.dev[0].syspath, sizeof(present.dev[0].syspath),
	    "/sys/devices/usb1/1-2");
	snprintf(present.dev[0].serial, sizeof(present.dev[0].serial),
	    "DENK0200002");
	/* The removed device itself never counts as present. */
	snprintf(present.dev[1].syspath, sizeof(present.dev[1].syspath),
	    "/sys/devices/usb1/1-1");
	snprintf(present.dev[1].serial, sizeof(present.dev[1].serial),
	    "DENK0100001");
	assert_true(hp_record_bound(HP_MATCH_ABSENT, "DENK0100001", &ev,
	    &present));
	assert_false(hp_record_bound(HP_MATCH_ABSENT, "DENK0200002", &ev,
	    &present));
	/* A present token whose serial extends the record's shields nothing. */
	snprintf(present.dev[0].serial, sizeof(present.dev[0].serial),
	    "DENK020000200000");
	assert_true(hp_record_bound(HP_MATCH_ABSENT, "DENK0200002", &ev,
	    &present));
	/* Nor does one whose serial had to be altered to be kept. */
	snprintf(present.dev[0].serial, sizeof(present.dev[0].serial),
	    "DENK0200002");
	present.dev[0].serial_altered = 1;
	assert_true(hp_record_bound(HP_MATCH_ABSENT, "DENK0200002", &ev,
	    &present));
	present.dev[0].serial_altered = 0;
	/* exact with an unknown serial falls back to absent. */
	ev.serial[0] = '\0';
	assert_false(hp_record_bound(HP_MATCH_EXACT, "DENK0200002", &ev,
	    &present));
	assert_true(hp_record_bound(HP_MATCH_EXACT, "DENK0100001", &ev,
	    &present));
	snprintf(ev.serial, sizeof(ev.serial), "DENK0100001");
	assert_true(hp_record_bound(HP_MATCH_EXACT, "DENK0100001", &ev, NULL));
	assert_false(hp_record_bound(HP_MATCH_EXACT, "DENK0200002", &ev, NULL));
	/* exact: a removed serial that extends the record's binds nothing. */
	snprintf(ev.serial, sizeof(ev.serial), "DENK010000100000");
	assert_false(hp_record_bound(HP_MATCH_EXACT, "DENK0100001", &ev,
	    NULL));
	/* exact with an altered serial: as unknown, absent decides. */
	snprintf(ev.serial, sizeof(ev.serial), "DENK0200002");
	ev.serial_altered = 1;
	assert_true(hp_record_bound(HP_MATCH_EXACT, "DENK0100001", &ev,
	    &present));
	assert_false(hp_record_bound(HP_MATCH_EXACT, "DENK0200002", &ev,
	    &present));
}

/* The run directory's checks, on directories every system has. */
static void
test_rundir(void **state)
{
	char err[256];

	assert_int_equal(hp_rundir_check("/", err, sizeof(err)), 0);
	assert_int_equal(hp_rundir_check("/nonexistent-nkhsm-rundir", err,
	    sizeof(err)), 1);
	assert_int_equal(hp_rundir_check("run/nkhsm", err, sizeof(err)),
	    NKHSM_ERR_CONFIG);
	assert_string_equal(err, "run/nkhsm: not an absolute path");
	assert_int_equal(hp_rundir_check("/dev/null", err, sizeof(err)),
	    NKHSM_ERR_CONFIG);
	assert_string_equal(err, "/dev/null: not a directory");
	/* Sticky or not, a world-writable rundir is refused. */
	assert_int_equal(hp_rundir_check("/tmp", err, sizeof(err)),
	    NKHSM_ERR_PERMISSION);
	assert_string_equal(err, "/tmp: directory is writable by group or "
	    "others");
}

static void
test_conf(void **state)
{
	static const char text[] =
	    "# comment\n"
	    "insert_exec = /usr/bin/x \"two words\" \"q\\\"\\\\\" --f\n"
	    "owner = DENK0100001 alice\n"
	    "rate_limit = 7/30s\n"
	    "settle = 0ms\n";
	struct hp_conf *c = NULL;
	char err[256];

	assert_int_equal(hp_conf_parse("t.conf", text, sizeof(text) - 1, &c,
	    err, sizeof(err)), 0);
	assert_int_equal(c->n_insert, 1);
	assert_int_equal(c->insert_exec[0].argc, 4);
	assert_string_equal(c->insert_exec[0].argv[1], "two words");
	assert_string_equal(c->insert_exec[0].argv[2], "q\"\\");
	assert_null(c->insert_exec[0].argv[4]);
	assert_int_equal(c->insert_exec[0].line, 2);
	assert_string_equal(c->owners[0].user, "alice");
	assert_int_equal(c->rate_count, 7);
	assert_int_equal(c->rate_window_ms, 30000);
	assert_int_equal(c->settle_ms, 0);
	assert_int_equal(c->on_remove, HP_REMOVE_LOCK_TOKEN);
	assert_int_equal(c->serial_match, HP_MATCH_ABSENT);
	hp_conf_free(&c);
	assert_null(c);

	assert_int_equal(hp_conf_parse("t.conf", "escalate = yes\n", 15, &c,
	    err, sizeof(err)), NKHSM_ERR_CONFIG);
	assert_string_equal(err, "t.conf:1: escalate must be none or terminate");
	assert_null(c);
	assert_int_equal(hp_conf_parse("t.conf", "\n\nsettle = 1s x\n", 15, &c,
	    err, sizeof(err)), NKHSM_ERR_CONFIG);
	assert_string_equal(err, "t.conf:3: settle takes one value");
	assert_int_equal(hp_conf_parse("t.conf", "owner = x\n", 10, &c,
	    err, sizeof(err)), NKHSM_ERR_CONFIG);
	assert_string_equal(err, "t.conf:1: owner takes a token serial and a "
	    "user");
	assert_int_equal(hp_conf_parse("t.conf", "se\x01tle = 1s\n", 12, &c,
	    err, sizeof(err)), NKHSM_ERR_CONFIG);
	assert_string_equal(err, "t.conf:1: unknown key 'se\\x01tle'");
	/* Serials are compared exactly: prefix matching is refused. */
	assert_int_equal(hp_conf_parse("t.conf", "serial_match = prefix\n",
	    22, &c, err, sizeof(err)), NKHSM_ERR_CONFIG);
	assert_non_null(strstr(err, "t.conf:1: serial_match prefix is no "
	    "longer accepted"));
	assert_null(c);
	assert_int_equal(hp_conf_parse("t.conf", "serial_match = exact\n",
	    21, &c, err, sizeof(err)), 0);
	assert_int_equal(c->serial_match, HP_MATCH_EXACT);
	hp_conf_free(&c);
}

static void
test_record(void **state)
{
	static const char rec1[] =
	    "user=alice\nuid=0\nservice=sshd\ntty=\nrhost=\nsession_id=c4\n"
	    "pid=4242\nserial=DENK 01;x\nlabel=l\nkey=SHA256:k\ncreated=1\n";
	struct hp_record r;
	char why[128];

	assert_int_equal(hp_record_parse(rec1, sizeof(rec1) - 1, &r, why,
	    sizeof(why)), 0);
	assert_string_equal(r.user, "alice");
	assert_string_equal(r.session_id, "c4");
	assert_string_equal(r.serial, "DENK_01_x");
	assert_int_equal(r.pid, 4242);
	assert_int_equal(hp_record_parse("user=a\n", 7, &r, why, sizeof(why)),
	    -1);
	assert_string_equal(why, "missing serial");
	assert_int_equal(hp_record_parse("user=a\nserial=s\nsession_id=a b\n",
	    31, &r, why, sizeof(why)), -1);
	assert_int_equal(hp_record_parse("user=a\nserial=s\nserial=t\n", 25,
	    &r, why, sizeof(why)), -1);
	assert_string_equal(why, "serial given twice");
	assert_int_equal(hp_record_parse("user=a\nserial=s\npid=-1\n", 23, &r,
	    why, sizeof(why)), -1);
}

static void
test_reply(void **state)
{
	static const char list[] =
	    "method return time=1 sender=:1.1 -> destination=:1.2 serial=3 "
	    "reply_serial=2\n"
	    "   array [\n"
	    "      struct {\n"
	    "         string \"c1\"\n"
	    "         uint32 1000\n"
	    "         string \"alice\"\n"
	    "         string \"seat0\"\n"
	    "         object path \"/org/freedesktop/login1/session/c1\"\n"
	    "      }\n"
	    "   ]\n";
	static const char evil[] =
	    "method return time=1\n   array [\n      struct {\n"
	    "         string \"1;2\"\n         uint32 1\n         string \"a\"\n"
	    "         string \"\"\n         object path \"/x\"\n      }\n   ]\n";
	static const char hint[] =
	    "method return time=1\n   variant       boolean true\n";
	static const char path[] =
	    "method return time=1\n   object path "
	    "\"/org/freedesktop/login1/session/_31\"\n";
	struct hp_session *s = NULL;
	char p[256];
	size_t n = 0;
	int v = 0;

	assert_int_equal(hp_logind_parse_sessions(list, sizeof(list) - 1, &s,
	    &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(s[0].id, "c1");
	assert_string_equal(s[0].user, "alice");
	assert_int_equal(s[0].uid, 1000);
	free(s);
	assert_int_equal(hp_logind_parse_sessions(evil, sizeof(evil) - 1, &s,
	    &n), NKHSM_ERR_FORMAT);
	assert_null(s);
	assert_int_equal(hp_logind_parse_sessions("Error x\n", 8, &s, &n),
	    NKHSM_ERR_FORMAT);
	assert_int_equal(hp_logind_parse_bool(hint, sizeof(hint) - 1, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(hp_logind_parse_path(path, sizeof(path) - 1, p,
	    sizeof(p)), 0);
	assert_string_equal(p, "/org/freedesktop/login1/session/_31");
}

static void
test_rate(void **state)
{
	struct hp_rate r;
	int i, allowed = 0;

	hp_rate_init(&r, 3, 1000);
	for (i = 0; i < 10; i++)
		allowed += hp_rate_take(&r, 100 + i);
	assert_int_equal(allowed, 3);
	assert_int_equal(hp_rate_take(&r, 1099), 0);	/* window not over */
	assert_int_equal(hp_rate_take(&r, 1100), 1);	/* the first expired */
	assert_int_equal(hp_rate_take(&r, 1100), 0);
	assert_int_equal(hp_rate_take(&r, 5000), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_serials),
		cmocka_unit_test(test_rundir),
		cmocka_unit_test(test_conf),
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_rate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
