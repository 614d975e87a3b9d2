/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_hotplug_conf.c - hp_conf_parse (nkhsm-hotplug's hotplug.conf) on
 * arbitrary bytes. A success must hold only values within their limits and
 * actions whose program is an absolute path; a failure must name the file.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"
#include "hotplug.h"
#include "fuzz.h"

#define FUZZ_NAME	"fuzz.conf"

static void
check_execs(const struct hp_exec *list, size_t n)
{
	size_t i, j;

	if (n > HP_EXEC_MAX)
		abort();
	for (i = 0; i < n; i++) {
		if (list[i].argc == 0 || list[i].argc > HP_ARGV_MAX ||
		    list[i].argv[list[i].argc] != NULL ||
		    list[i].argv[0][0] != '/')
			abort();
		for (j = 0; j < list[i].argc; j++)
			if (strlen(list[i].argv[j]) > HP_ARG_MAX)
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hp_conf *c = NULL;
	char err[512], clean[HP_SERIAL_MAX + 1];
	size_t i;
	int r;

	err[0] = '\0';
	r = hp_conf_parse(FUZZ_NAME, (const char *)data, size, &c, err,
	    sizeof(err));
	if (r != 0) {
		if (c != NULL || strncmp(err, FUZZ_NAME ":",
		    strlen(FUZZ_NAME) + 1) != 0)
			abort();
		return 0;
	}
	if (c->lock_interval_ms > 1000 || c->grace_ms > 60000 ||
	    c->settle_ms > 60000 || c->timeout_ms < 100 ||
	    c->timeout_ms > 600000 || c->rate_count < 1 ||
	    c->rate_count > HP_RATE_MAX || c->rate_window_ms < 1000 ||
	    c->max_children < 1 || c->max_children > 64 ||
	    c->rundir[0] != '/' || c->dbus_send[0] != '/')
		abort();
	if (c->run_as[0] != '\0' && !hp_user_valid(c->run_as))
		abort();
	check_execs(c->insert_exec, c->n_insert);
	check_execs(c->remove_exec, c->n_remove);
	check_execs(c->user_exec, c->n_user);
	for (i = 0; i < c->n_owners; i++) {
		if (!hp_user_valid(c->owners[i].user) ||
		    hp_sanitize(c->owners[i].serial, clean, sizeof(clean)) != 0)
			abort();
	}
	hp_conf_free(&c);
	return 0;
}
