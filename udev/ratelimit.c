/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ratelimit.c - at most COUNT action starts in any WINDOW: a sliding window
 * of start times. The monitor keeps one in memory; one-shot runs (one
 * process per udev event) share one through a locked file in the rundir,
 * so an event storm cannot fork-bomb either way.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "hotplug.h"

#define RATE_FILE_MAX	(HP_RATE_MAX * 24)

void
hp_rate_init(struct hp_rate *r, unsigned int count, unsigned int window_ms)
{
	memset(r, 0, sizeof(*r));
	r->count = count > HP_RATE_MAX ? HP_RATE_MAX : count;
	r->window_ms = window_ms;
}

static void
expire(struct hp_rate *r, int64_t now)
{
	size_t i = 0;

	while (i < r->n && now - r->stamp[i] >= (int64_t)r->window_ms)
		i++;
	if (i > 0) {
		memmove(r->stamp, r->stamp + i, (r->n - i) * sizeof(r->stamp[0]));
		r->n -= i;
	}
}

int
hp_rate_take(struct hp_rate *r, int64_t now)
{
	expire(r, now);
	if (r->n >= r->count || r->n >= HP_RATE_MAX)
		return 0;
	/* The clock is monotonic, but keep the window ordered regardless. */
	if (r->n > 0 && now < r->stamp[r->n - 1])
		now = r->stamp[r->n - 1];
	r->stamp[r->n++] = now;
	return 1;
}

static int
rate_parse(struct hp_rate *r, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	long long v;
	char *ep;

	r->n = 0;
	while (p < end && r->n < HP_RATE_MAX) {
		if (*p == '\n') {
			p++;
			continue;
		}
		if (*p < '0' || *p > '9')
			return -1;
		v = strtoll(p, &ep, 10);
		if (ep >= end || *ep != '\n' || v < 0)
			return -1;
		if (r->n > 0 && v < r->stamp[r->n - 1])
			return -1;
		r->stamp[r->n++] = v;
		p = ep + 1;
	}
	return 0;
}

int
hp_rate_take_file(const char *path, unsigned int count,
    unsigned int window_ms, int64_t now)
{
	struct hp_rate *r = NULL;
	char *buf = NULL, err[256];
	size_t len = 0, i, off = 0;
	ssize_t n;
	int fd = -1, ok = -1;

	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY, 0600)) == -1)
		return -1;
	if (flock(fd, LOCK_EX) != 0 ||
	    nkhsm_file_check(fd, path, -1, err, sizeof(err)) != 0)
		goto out;
	if ((r = malloc(sizeof(*r))) == NULL ||
	    (buf = malloc(RATE_FILE_MAX + 1)) == NULL)
		goto out;
	hp_rate_init(r, count, window_ms);
	while (len < RATE_FILE_MAX) {
		if ((n = read(fd, buf + len, RATE_FILE_MAX - len)) < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	/* A damaged file starts a fresh window rather than blocking all. */
	if (rate_parse(r, buf, len) != 0)
		r->n = 0;
	ok = hp_rate_take(r, now);
	for (i = 0; i < r->n; i++)
		off += (size_t)snprintf(buf + off, RATE_FILE_MAX + 1 - off,
		    "%lld\n", (long long)r->stamp[i]);
	if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, off, 0) != (ssize_t)off)
		hp_log(LOG_WARNING, "%s: cannot update the rate limit", path);
 out:
	free(buf);
	free(r);
	if (fd != -1)
		close(fd);
	return ok;
}
