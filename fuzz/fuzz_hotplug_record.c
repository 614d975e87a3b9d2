/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_hotplug_record.c - the two other parsers nkhsm-hotplug trusts: a
 * pam_nkhsm session record (hp_record_parse) and dbus-send's reply to
 * logind's ListSessions (hp_logind_parse_sessions), on the same bytes. Every
 * accepted user name and session id must be in its alphabet: they become
 * D-Bus arguments.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"
#include "hotplug.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hp_record rec;
	struct hp_session *s = NULL;
	char why[256], path[HP_PATH_MAX], clean[HP_SERIAL_MAX + 1];
	size_t n = 0, i;
	int v;

	if (hp_record_parse((const char *)data, size, &rec, why,
	    sizeof(why)) == 0) {
		if (!hp_user_valid(rec.user) || (rec.session_id[0] != '\0' &&
		    !hp_session_id_valid(rec.session_id)) ||
		    hp_sanitize(rec.serial, clean, sizeof(clean)) != 0 ||
		    rec.pid < 0)
			abort();
	}
	if (hp_logind_parse_sessions((const char *)data, size, &s, &n) == 0) {
		if (n > HP_SESSIONS_MAX)
			abort();
		for (i = 0; i < n; i++)
			if (!hp_session_id_valid(s[i].id) ||
			    !hp_user_valid(s[i].user))
				abort();
		free(s);
	} else if (s != NULL || n != 0)
		abort();
	if (hp_logind_parse_bool((const char *)data, size, &v) == 0 &&
	    v != 0 && v != 1)
		abort();
	if (hp_logind_parse_path((const char *)data, size, path,
	    sizeof(path)) == 0 && strncmp(path, "/org/freedesktop/login1/", 24))
		abort();
	return 0;
}
