/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * event.c - which udev events are ours, and what they say.
 *
 * Only the whole USB device counts: SUBSYSTEM=usb, DEVTYPE=usb_device,
 * PRODUCT=20a0/4230/<bcd> (the kernel's "%x/%x/%x"), ACTION add or remove.
 * Properties, not sysfs attributes, because on remove the attributes are
 * gone. The serial is sanitized here; the syspath is validated and an
 * event with a strange one is refused rather than repaired.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "hotplug.h"

const char *
hp_action_name(enum hp_action a)
{
	switch (a) {
	case HP_EV_ADD:
		return "add";
	case HP_EV_REMOVE:
		return "remove";
	default:
		return "none";
	}
}

/* One to four lower- or upper-case hex digits, then the terminator. */
static int
parse_hex4(const char **sp, int term, unsigned int *vp)
{
	const char *s = *sp;
	unsigned int v = 0;
	size_t n = 0;
	int c;

	for (; (c = (unsigned char)*s) != '\0' && c != term; s++, n++) {
		if (n >= 4)
			return -1;
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned int)(c - 'A' + 10);
		else
			return -1;
	}
	if (n == 0 || c != term)
		return -1;
	*vp = v;
	*sp = term == '\0' ? s : s + 1;
	return 0;
}

static int
product_is_ours(const char *product)
{
	unsigned int vendor, model, bcd;
	const char *s = product;

	if (s == NULL || parse_hex4(&s, '/', &vendor) != 0 ||
	    parse_hex4(&s, '/', &model) != 0 || parse_hex4(&s, '\0', &bcd) != 0)
		return 0;
	return vendor == HP_VENDOR_ID && model == HP_PRODUCT_ID;
}

int
hp_event_classify(const struct hp_props *p, struct hp_event *ev,
    char *why, size_t whylen)
{
	char syspath[HP_SYSPATH_MAX + 2];
	unsigned long long seq = 0;
	enum hp_action action;
	char *end;
	int altered;

	memset(ev, 0, sizeof(*ev));
	if (p->action == NULL) {
		nk_errf(why, whylen, "no ACTION");
		return -1;
	}
	if (strcmp(p->action, "add") == 0)
		action = HP_EV_ADD;
	else if (strcmp(p->action, "remove") == 0)
		action = HP_EV_REMOVE;
	else {
		nk_errf(why, whylen, "action is neither add nor remove");
		return 1;
	}
	if (p->subsystem == NULL || strcmp(p->subsystem, "usb") != 0) {
		nk_errf(why, whylen, "not a USB device");
		return 1;
	}
	if (p->devtype == NULL || strcmp(p->devtype, "usb_device") != 0) {
		nk_errf(why, whylen, "not a whole USB device");
		return 1;
	}
	if (!product_is_ours(p->product)) {
		nk_errf(why, whylen, "not a Nitrokey HSM (20a0:4230)");
		return 1;
	}
	if (p->devpath == NULL || p->devpath[0] != '/' ||
	    strlen(p->devpath) > HP_SYSPATH_MAX - 4) {
		nk_errf(why, whylen, "missing or oversized DEVPATH");
		return -1;
	}
	snprintf(syspath, sizeof(syspath), "/sys%s", p->devpath);
	if (!hp_syspath_valid(syspath)) {
		nk_errf(why, whylen, "DEVPATH with unexpected characters");
		return -1;
	}
	if (p->seqnum != NULL) {
		seq = strtoull(p->seqnum, &end, 10);
		if (p->seqnum[0] < '0' || p->seqnum[0] > '9' || *end != '\0') {
			nk_errf(why, whylen, "malformed SEQNUM");
			return -1;
		}
	}
	if ((altered = hp_sanitize(p->serial, ev->serial,
	    sizeof(ev->serial))) < 0)
		return -1;
	ev->serial_altered = altered;
	ev->action = action;
	ev->seqnum = seq;
	memcpy(ev->syspath, syspath, strlen(syspath) + 1);
	return 0;
}

/*
 * The value of name in envp. A name set twice, or set to more than
 * HP_ENV_ENTRY_MAX bytes, is an error; entries the event does not read
 * (the service manager's, a test harness's MAKEFLAGS) are not looked at.
 */
static int
env_get(char *const *envp, size_t n, const char *name, const char **valp,
    char *why, size_t whylen)
{
	size_t i, len = strlen(name);

	*valp = NULL;
	for (i = 0; i < n; i++) {
		if (strncmp(envp[i], name, len) != 0 || envp[i][len] != '=')
			continue;
		if (*valp != NULL) {
			nk_errf(why, whylen, "%s set twice", name);
			return -1;
		}
		if (strnlen(envp[i], HP_ENV_ENTRY_MAX) >= HP_ENV_ENTRY_MAX) {
			nk_errf(why, whylen, "%s too long", name);
			return -1;
		}
		*valp = envp[i] + len + 1;
	}
	return 0;
}

int
hp_event_from_env(char *const *envp, struct hp_event *ev, char *why,
    size_t whylen)
{
	static const char *const names[] = {
		"ACTION", "SUBSYSTEM", "DEVTYPE", "PRODUCT", "DEVPATH",
		"ID_SERIAL_SHORT", "SEQNUM",
	};
	const char *val[sizeof(names) / sizeof(names[0])];
	struct hp_props p;
	size_t n, i;

	memset(ev, 0, sizeof(*ev));
	if (envp == NULL) {
		nk_errf(why, whylen, "no environment");
		return -1;
	}
	for (n = 0; envp[n] != NULL; n++) {
		if (n >= HP_ENV_MAX) {
			nk_errf(why, whylen, "environment too large");
			return -1;
		}
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (env_get(envp, n, names[i], &val[i], why, whylen) != 0)
			return -1;
	}
	memset(&p, 0, sizeof(p));
	p.action = val[0];
	p.subsystem = val[1];
	p.devtype = val[2];
	p.product = val[3];
	p.devpath = val[4];
	p.serial = val[5];
	p.seqnum = val[6];
	return hp_event_classify(&p, ev, why, whylen);
}
