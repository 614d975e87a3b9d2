/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_hotplug_reader.c - hp_reader_usb_serial, which reads the USB serial
 * out of a PC/SC reader's name (a USB device chooses both), on arbitrary
 * bytes up to the first NUL. A serial it accepts is non-empty, in the
 * sanitized alphabet, in a name ending ") NN NN", and stands in it as it
 * is unless blanks became '_'; one it refuses leaves the output empty.
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
	char name[NKHSM_READER_NAME_MAX + 2], out[HP_SERIAL_MAX + 1];
	char clean[HP_SERIAL_MAX + 1];
	size_t len, sl;
	int r;

	if (size > sizeof(name) - 1)
		size = sizeof(name) - 1;
	memcpy(name, data, size);
	name[size] = '\0';
	memset(out, 'x', sizeof(out));
	r = hp_reader_usb_serial(name, out, sizeof(out));
	if (r != 0) {
		if (r != -1 || out[0] != '\0')
			abort();
		return 0;
	}
	len = strlen(name);
	sl = strlen(out);
	if (sl == 0 || sl > HP_SERIAL_MAX ||
	    hp_sanitize(out, clean, sizeof(clean)) != 0 ||
	    len < sl + 9 || name[len - 7] != ')' ||
	    (strstr(name, out) == NULL && strchr(out, '_') == NULL))
		abort();
	return 0;
}
