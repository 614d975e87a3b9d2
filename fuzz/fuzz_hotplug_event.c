/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_hotplug_event.c - hp_event_from_env, the parser of the udev/systemd
 * environment, on arbitrary bytes split at NUL into environment entries.
 * An accepted event must carry a valid /sys/devices path and a serial in
 * the sanitized alphabet, so nothing else can reach an action.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"
#include "hotplug.h"
#include "fuzz.h"

#define ENTRIES_MAX	64
#define INPUT_MAX	(16 * 1024)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *envp[ENTRIES_MAX + 1], why[256], clean[HP_SERIAL_MAX + 1];
	struct hp_event ev;
	size_t i, n = 0, start = 0;
	int r;

	if (size > INPUT_MAX || (buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (i = 0; i <= size && n < ENTRIES_MAX; i++) {
		if (buf[i] != '\0')
			continue;
		envp[n++] = buf + start;
		start = i + 1;
	}
	envp[n] = NULL;
	why[0] = '\0';
	r = hp_event_from_env(envp, &ev, why, sizeof(why));
	if (r < -1 || r > 1 || (r != 0 && why[0] == '\0'))
		abort();
	if (r == 0) {
		if ((ev.action != HP_EV_ADD && ev.action != HP_EV_REMOVE) ||
		    !hp_syspath_valid(ev.syspath) ||
		    strlen(ev.serial) > HP_SERIAL_MAX ||
		    hp_sanitize(ev.serial, clean, sizeof(clean)) != 0)
			abort();
	}
	free(buf);
	return 0;
}
