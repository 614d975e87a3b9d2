/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cards.c - nkhsm-hotplug's PC/SC side: which readers hold which cards.
 *
 * A Nitrokey HSM is a USB CCID reader with the card built in: pulling it
 * makes its reader go away. A SmartCard-HSM in another reader leaves the
 * reader empty. Both are seen through pcscd (SCardGetStatusChange, through
 * libnkhsm), and a card counts as inserted when it answers: its serial is
 * read then, and that serial, not the USB device's, names the token when
 * it goes.
 *
 * pcscd is only ever asked from child processes. The watcher blocks in
 * nkhsm_readers_wait and writes a snapshot of every reader each time they
 * change; a probe reads one card's serial and is killed at its deadline.
 * A card that stops answering blocks its probe (and, with some drivers,
 * pcscd itself), never the monitor's loop, the udev path or the locks.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "hotplug.h"

#define SNAP_MAGIC	0x6e6b7277	/* "nkrw" */

/* Pure parts: reader names and what changed in a reader. */

static int
is_hex2(const char *s)
{
	return ((s[0] >= '0' && s[0] <= '9') || (s[0] >= 'A' && s[0] <= 'F')) &&
	    ((s[1] >= '0' && s[1] <= '9') || (s[1] >= 'A' && s[1] <= 'F'));
}

/*
 * Blanks as udev treats them in ID_SERIAL_SHORT: none at either end, a
 * run of them inside as one '_' (pcscd names the reader with the raw
 * USB serial, which a Nitrokey HSM pads with blanks).
 */
static void
udev_blanks(char *s)
{
	size_t i, o = 0;
	int blank = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == ' ' || s[i] == '\t') {
			blank = o > 0;
			continue;
		}
		if (blank)
			s[o++] = '_';
		blank = 0;
		s[o++] = s[i];
	}
	s[o] = '\0';
}

int
hp_reader_usb_serial(const char *name, char *out, size_t outlen)
{
	char raw[NKHSM_READER_NAME_MAX];
	size_t len, open;

	if (outlen > 0)
		out[0] = '\0';
	if (name == NULL || outlen == 0 ||
	    (len = strnlen(name, sizeof(raw))) >= sizeof(raw))
		return -1;
	/* pcscd appends " NN NN" (reader and slot) to the name it built. */
	if (len < 7 || name[len - 6] != ' ' || name[len - 3] != ' ' ||
	    !is_hex2(name + len - 5) || !is_hex2(name + len - 2))
		return -1;
	len -= 6;
	if (len < 4 || name[len - 1] != ')')
		return -1;
	for (open = len - 1; open > 0 && name[open - 1] != '('; open--)
		;
	if (open < 2 || name[open - 2] != ' ' || open == len - 1)
		return -1;
	memcpy(raw, name + open, len - 1 - open);
	raw[len - 1 - open] = '\0';
	udev_blanks(raw);
	if (raw[0] == '\0' || strchr(raw, '(') != NULL ||
	    hp_sanitize(raw, out, outlen) != 0) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

static int
holds_card(const nkhsm_reader_t *r)
{
	return r != NULL && (r->state & NKHSM_READER_PRESENT) != 0 &&
	    (r->state & NKHSM_READER_UNAVAILABLE) == 0;
}

enum hp_card_change
hp_card_diff(const nkhsm_reader_t *was, const nkhsm_reader_t *now)
{
	int a = holds_card(was), b = holds_card(now);

	if (!a && !b)
		return HP_CARD_NONE;
	if (!a)
		return HP_CARD_IN;
	if (!b)
		return HP_CARD_OUT;
	/* pcscd counts insertions and removals; the ATR is a second witness. */
	if (was->events != now->events || was->atrlen != now->atrlen ||
	    memcmp(was->atr, now->atr, now->atrlen) != 0)
		return HP_CARD_OUT_IN;
	return HP_CARD_NONE;
}

const nkhsm_reader_t *
hp_snapshot_find(const struct hp_snapshot *s, const char *name)
{
	uint32_t i;

	for (i = 0; s != NULL && i < s->n && i < HP_READERS_MAX; i++)
		if (strcmp(s->r[i].name, name) == 0)
			return &s->r[i];
	return NULL;
}

/* Child processes. */

static int
write_all(int fd, const void *p, size_t len)
{
	const uint8_t *b = p;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, b, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * A child of the monitor (or of a one-shot run): default signals, none
 * blocked, nothing open but keep_fd and stdio, killed with its parent.
 */
static pid_t
fork_child(int keep_fd)
{
	sigset_t none;
	pid_t pid;
	int i;

	fflush(NULL);
	if ((pid = fork()) != 0)
		return pid;
	for (i = 1; i < NSIG; i++)
		if (i != SIGKILL && i != SIGSTOP)
			(void)signal(i, SIG_DFL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (keep_fd != 3 && dup2(keep_fd, 3) == -1)
		_exit(1);
	hp_close_from(4);
	return 0;
}

static void
snap_fill(struct hp_snapshot *s, int err, const nkhsm_reader_t *l, size_t n)
{
	memset(s, 0, sizeof(*s));
	s->magic = SNAP_MAGIC;
	s->err = err;
	if (n > HP_READERS_MAX)
		n = HP_READERS_MAX;
	s->n = (uint32_t)n;
	if (n > 0)
		memcpy(s->r, l, n * sizeof(*l));
}

/* The watcher: a snapshot now, then one after every change. */
static void __attribute__((noreturn))
watcher(int fd)
{
	struct hp_snapshot *s;
	nkhsm_ctx_t *ctx = NULL;
	nkhsm_reader_t *l = NULL, *nl = NULL;
	size_t n = 0, nn = 0;
	int r;

	if ((s = malloc(sizeof(*s))) == NULL)
		_exit(1);
	if ((r = nkhsm_ctx_open_pcsc(0, &ctx)) != 0 ||
	    (r = nkhsm_readers(ctx, &l, &n)) != 0) {
		snap_fill(s, r, NULL, 0);
		(void)write_all(fd, s, sizeof(*s));
		_exit(1);
	}
	for (;;) {
		snap_fill(s, n > HP_READERS_MAX ? NKHSM_ERR_TOO_LARGE : 0, l,
		    n);
		if (write_all(fd, s, sizeof(*s)) != 0)
			_exit(0);	/* the monitor is gone */
		if (n > HP_READERS_MAX)
			_exit(1);
		do {
			r = nkhsm_readers_wait(ctx, l, n, -1, &nl, &nn);
		} while (r == NKHSM_ERR_TIMEOUT);
		if (r != 0) {
			snap_fill(s, r, NULL, 0);
			(void)write_all(fd, s, sizeof(*s));
			_exit(1);
		}
		free(l);
		l = nl;
		n = nn;
		nl = NULL;
	}
}

int
hp_watch_start(pid_t *pidp, int *fdp)
{
	int p[2];
	pid_t pid;

	*pidp = -1;
	*fdp = -1;
	if (pipe2(p, O_CLOEXEC) == -1)
		return NKHSM_ERR_IO;
	if ((pid = fork_child(p[1])) == -1) {
		close(p[0]);
		close(p[1]);
		return NKHSM_ERR_IO;
	}
	if (pid == 0)
		watcher(3);
	close(p[1]);
	*pidp = pid;
	*fdp = p[0];
	return 0;
}

int
hp_watch_read(int fd, struct hp_snapshot *s)
{
	uint8_t *b = (uint8_t *)s;
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(*s)) {
		if ((n = read(fd, b + got, sizeof(*s) - got)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return -1;
		got += (size_t)n;
	}
	if (s->magic != SNAP_MAGIC || s->n > HP_READERS_MAX)
		return -1;
	return 0;
}

/* The first reader named after usb that holds a SmartCard-HSM. */
static const nkhsm_reader_t *
device_reader(const nkhsm_reader_t *l, size_t n, const char *usb)
{
	char s[HP_SERIAL_MAX + 1];
	size_t i;

	for (i = 0; i < n; i++)
		if ((l[i].state & NKHSM_READER_SCHSM) != 0 &&
		    hp_reader_usb_serial(l[i].name, s, sizeof(s)) == 0 &&
		    strcmp(s, usb) == 0)
			return &l[i];
	return NULL;
}

/* Wait up to wait_ms for the reader of the USB device usb. */
static int
find_reader(nkhsm_ctx_t *ctx, const char *usb, unsigned int wait_ms,
    char *name, size_t namelen)
{
	const nkhsm_reader_t *rd;
	nkhsm_reader_t *l = NULL, *nl = NULL;
	size_t n = 0, nn = 0;
	int64_t deadline = hp_now_ms() + wait_ms, left;
	int r;

	if ((r = nkhsm_readers(ctx, &l, &n)) != 0)
		return r;
	while ((rd = device_reader(l, n, usb)) == NULL) {
		if ((left = deadline - hp_now_ms()) <= 0) {
			r = NKHSM_ERR_TIMEOUT;
			goto out;
		}
		if ((r = nkhsm_readers_wait(ctx, l, n, (int)left, &nl,
		    &nn)) != 0)
			goto out;
		free(l);
		l = nl;
		n = nn;
		nl = NULL;
	}
	snprintf(name, namelen, "%s", rd->name);
	r = 0;
 out:
	free(l);
	return r;
}

static void __attribute__((noreturn))
probe(int fd, const char *reader, const char *usb, unsigned int wait_ms)
{
	struct hp_probe_msg m;
	nkhsm_ctx_t *ctx = NULL;
	char *serial = NULL;
	int r;

	memset(&m, 0, sizeof(m));
	m.pid = (int32_t)getpid();
	if (reader != NULL)
		snprintf(m.reader, sizeof(m.reader), "%s", reader);
	if ((r = nkhsm_ctx_open_pcsc(0, &ctx)) == 0 && reader == NULL)
		r = find_reader(ctx, usb, wait_ms, m.reader, sizeof(m.reader));
	if (r == 0 && (r = nkhsm_reader_serial(ctx, m.reader, &serial)) == 0)
		m.altered = hp_sanitize(serial, m.serial, sizeof(m.serial));
	m.err = r;
	/* One write of less than PIPE_BUF: probes share the pipe. */
	(void)write_all(fd, &m, sizeof(m));
	_exit(r == 0 ? 0 : 1);
}

int
hp_probe_start(int wfd, const char *reader, const char *usb,
    unsigned int wait_ms, pid_t *pidp)
{
	pid_t pid;

	*pidp = -1;
	if ((reader == NULL) == (usb == NULL))
		return NKHSM_ERR_INVALID_ARGUMENT;
	if ((pid = fork_child(wfd)) == -1)
		return NKHSM_ERR_IO;
	if (pid == 0)
		probe(3, reader, usb, wait_ms);
	*pidp = pid;
	return 0;
}

int
hp_probe_read(int fd, struct hp_probe_msg *m)
{
	ssize_t n;

	do {
		n = read(fd, m, sizeof(*m));
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*m))
		return -1;
	m->serial[sizeof(m->serial) - 1] = '\0';
	m->reader[sizeof(m->reader) - 1] = '\0';
	return 0;
}

/* One-shot add: the card of the device, under card_timeout. */
int
hp_card_of_device(const struct hp_conf *c, struct hp_event *ev)
{
	struct hp_probe_msg m;
	struct pollfd pfd;
	int p[2], status, n, r = NKHSM_ERR_TIMEOUT;
	int64_t deadline, left;
	pid_t pid;

	if (ev->serial[0] == '\0' || ev->serial_altered)
		return NKHSM_ERR_NO_TOKEN;	/* nothing names a reader */
	if (pipe2(p, O_CLOEXEC) == -1)
		return NKHSM_ERR_IO;
	if ((r = hp_probe_start(p[1], NULL, ev->serial, c->card_timeout_ms,
	    &pid)) != 0) {
		close(p[0]);
		close(p[1]);
		return r;
	}
	close(p[1]);
	/* The probe's own wait ends first; this is for a card that hangs. */
	deadline = hp_now_ms() + c->card_timeout_ms + 1000;
	pfd.fd = p[0];
	pfd.events = POLLIN;
	r = NKHSM_ERR_TIMEOUT;
	while ((left = deadline - hp_now_ms()) > 0) {
		if ((n = poll(&pfd, 1, (int)left)) < 0 && errno == EINTR)
			continue;
		if (n > 0)
			r = hp_probe_read(p[0], &m) == 0 ? m.err :
			    NKHSM_ERR_INTERNAL;
		break;
	}
	close(p[0]);
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, &status, 0);
	if (r == NKHSM_ERR_PCSC)
		return 1;
	if (r != 0)
		return r;
	if (m.altered)
		return NKHSM_ERR_FORMAT;
	memcpy(ev->serial, m.serial, sizeof(ev->serial));
	ev->serial_altered = 0;
	(void)hp_sanitize(m.reader, ev->reader, sizeof(ev->reader));
	ev->card = 1;
	return 0;
}
